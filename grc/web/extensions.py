"""The staff web application's Flask extensions, created once and bound by
``grc.web.application.init_app``: sessions, CSRF on every form, sign-in limits."""

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address)
