"""Export service: final objects, posters, pre-signed URLs and clean-up."""
