"""Domain actions: the only code that changes the state of SOFI's records."""
