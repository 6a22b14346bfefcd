"""The pieces of the `pim-opt` driver (`pimdsl.tools.opt_driver.PimOptMain`), one concern a
module: pass flags, the pipeline, options and help, inputs, the zoo cache, --chip/--batch,
diagnostics and outputs."""
