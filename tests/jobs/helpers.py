"""Small helpers shared by the jobs tests."""
SPEC = "name: m\nconversion: sales\n"


def make_model(registry, name="brand", run_frequency="manual"):
    return registry.create_model(name, description="", conversion="sales", spec_yaml=SPEC, run_frequency=run_frequency)
