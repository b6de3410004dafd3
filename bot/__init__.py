"""Kent Connects Bot: the chat assistant of the Kent Connects partnership."""
