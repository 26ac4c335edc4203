def pytest_configure(config):
    config.addinivalue_line("markers", "slow: the real-constants (window 128) run, ~1 min")
