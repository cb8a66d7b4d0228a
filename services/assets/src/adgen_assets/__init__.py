"""Assets service: product images, embeddings and search."""
