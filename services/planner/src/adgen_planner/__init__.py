"""Planner service: beat library, archetypes and the plan composer."""
