"""Provider plumbing shared by the services that call paid providers: Replicate predictions found by
their tag, where a unit remembers its prediction, retried and traced provider calls, and the
fleet-wide slots that cap calls in flight."""
