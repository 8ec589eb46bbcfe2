"""The service artifact: one versioned tar.gz an instance installs without any index.

``build_artifact`` is the public entry point (``wsgate build`` and ``wsgate deploy`` call it).
"""

from wsgate.artifact.build import Artifact, build_artifact

__all__ = ["Artifact", "build_artifact"]
