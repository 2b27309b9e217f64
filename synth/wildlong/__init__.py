"""WildLong (arXiv 2502.16684): meta-information graphs from real user queries, random walks, instructions paired with long documents."""
