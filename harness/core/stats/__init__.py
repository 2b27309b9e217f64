"""Is a difference real? Intervals (`intervals`), paired tests with one replicate (`paired`), tests
over training replicates (`replicated`), corrections for many tests (`multiple`) and the minimum
detectable effect (`power`)."""
