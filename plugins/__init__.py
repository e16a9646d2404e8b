"""Built-in plugin packages. Each registers through the ``facecore.plugins`` entry-point group,
exactly as a third-party package would."""
