"""Small helpers shared by the jobs tests."""
SPEC = "name: m\nconversion: sales\n"


def make_model(registry, name="brand", run_frequency="manual"):
    return registry.create_model(name, description="", conversion="sales", spec_yaml=SPEC, run_frequency=run_frequency)


def make_trained_model(registry, name="brand", run_frequency="manual"):
    """A model with a finished 'Success' train run: one that can be scored (and score jobs queued)."""
    from mediamix.registry import Status

    make_model(registry, name, run_frequency)
    registry.finish_run(registry.start_run(name, "train", {}), Status.SUCCESS, {"max_rhat": 1.0}, None, None)
    return registry.get_model(name)
