"""Desktop integration: autostart, the desktop entry and icons, one instance per profile.

Imported only where used, so the app's start-up pays for none of it until needed.
"""
