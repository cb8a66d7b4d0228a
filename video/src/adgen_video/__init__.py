"""The shared video domain: the rules several services apply to a video (its states, ready units,
budget, renditions, request and contract limits, durations, object keys) and the schema of the
shared tables with its migrations."""
