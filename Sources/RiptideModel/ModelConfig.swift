// Typed DeepSeek-V4 configuration (filled in by the foundation work).
