"""Declarative rulebooks compiled onto the durable-rules engine."""
