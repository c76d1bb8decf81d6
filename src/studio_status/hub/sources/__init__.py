"""Where jobs, pods and service behaviour come from besides the checkers."""
