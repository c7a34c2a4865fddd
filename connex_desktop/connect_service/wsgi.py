"""The deployable WSGI app, its settings from the environment (see README)."""

from connex_desktop.connect_service.app import create_app
from connex_desktop.connect_service.settings import ServiceSettings

app = create_app(ServiceSettings.from_environment())
