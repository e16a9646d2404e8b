"""Helpers shared by the command-line tools: annotations, pairs, drawing, progress and the local pipeline."""
