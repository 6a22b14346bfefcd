"""An example pimdsl plugin (docs/extending.md): passes and a target in a package of their own."""
