// RUN: pim-opt --version | filecheck %s
// RUN: pim-opt --list-chips | filecheck %s --check-prefix=CHIPS
// RUN: pim-opt --help | filecheck %s --check-prefix=HELP
// CHECK: pim-opt (pimdsl {{[0-9.]+}}, xDSL 0.74.0)
// CHIPS:      preset           cores  xbars/core  crossbar    w/a bits  capacity
// CHIPS-NEXT: compass-l        36     16          256x256x1b  4/4       4.5 MB
// CHIPS-NEXT: compass-m        16     16          256x256x1b  4/4       2 MB
// CHIPS-NEXT: compass-s        16     9           256x256x1b  4/4       1.125 MB
// HELP: usage: pim-opt
// HELP: --chip NAME|FILE
// HELP: pimdsl passes
// HELP: xDSL passes
// HELP: chip presets
// HELP-NEXT: compass-l
