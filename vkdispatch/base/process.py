"""Process state every layer may read (a leaf): whether this process is a fork() of one
that had opened a device. Driver objects inherited through fork() belong to the parent's
driver threads and mappings, so finalizers must leave them alone in the child."""

forked_child = False
