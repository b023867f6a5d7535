"""JupyterHub for the Keras APIs course (started by `make hub`: keras_course/hub.py).

Where it listens, its users and folders come from the site file `make hub` writes
($KERAS_HUB_SITE, /srv/keras-course-hub/hub/site.json). What a university changes for
production is marked PRODUCTION (see the README, "The course on a JupyterHub").
"""
import json
import os

from keras_course.coursedir import QUIET_TF_ENV  # the hub's environment holds the course's package

c = get_config()  # noqa: F821  (provided by JupyterHub when it loads this file)
site = json.load(open(os.environ["KERAS_HUB_SITE"]))
state = os.path.join(site["srv"], "hub")
venv_bin = os.path.join(site["venv"], "bin")

# PRODUCTION: listen on the public address behind HTTPS (c.JupyterHub.ssl_cert/ssl_key, or a
# reverse proxy that terminates TLS). Here: localhost only, plain HTTP.
c.JupyterHub.bind_url = f"http://127.0.0.1:{site['port']}"
c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{site['hub_port']}"
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{site['proxy_api_port']}"
c.ConfigurableHTTPProxy.pid_file = os.path.join(state, "proxy.pid")
c.JupyterHub.db_url = "sqlite:///" + os.path.join(state, "jupyterhub.sqlite")
c.JupyterHub.cookie_secret_file = os.path.join(state, "jupyterhub_cookie_secret")
c.JupyterHub.cleanup_servers = True  # stopping the hub stops every user's server

# PRODUCTION: the university's single sign-on (oauthenticator's GenericOAuthenticator, LTI from
# the LMS, LDAP) instead of local system accounts.
c.JupyterHub.authenticator_class = "pam"
c.Authenticator.allowed_users = set([site["instructor"], *site["students"]])
c.PAMAuthenticator.open_sessions = False  # no login sessions to open in a container

# PRODUCTION: many users need more than one machine: SystemdSpawner (limits per user) or
# KubeSpawner (then nbgrader's directory exchange needs a shared volume, see the README).
c.JupyterHub.spawner_class = "localprocess"  # every server runs as its user, in their home
c.Spawner.cmd = [os.path.join(venv_bin, "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.environment = {
    # nbgrader calls `alembic` through PATH; kernels use the hub's environment
    "PATH": f"{venv_bin}:/usr/local/bin:/usr/bin:/bin",
    **QUIET_TF_ENV,
}
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
