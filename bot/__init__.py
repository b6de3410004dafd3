"""Kent Connects Bot: the chat assistant of the Kent Connects partnership."""

# The Teams app package's version (teams-package --version overrides it); raise it for each release,
# since Teams replaces an installed app only with a higher version.
__version__ = "1.1.0"
