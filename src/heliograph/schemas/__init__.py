"""Wire models, named as the spec's components: request bodies are decoded and validated here."""
