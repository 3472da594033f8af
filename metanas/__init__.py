"""metanas: meta-learned neural architecture search, evaluated on tabular benchmarks."""
