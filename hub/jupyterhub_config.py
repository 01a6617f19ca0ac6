"""JupyterHub for trying a class on this machine: `make hub` (tools/hub.py starts it with this file).

Not for a real class: anyone who can reach the port logs in with any name and no password,
and every user's server runs as the user who started the hub, with no isolation. It listens
on 127.0.0.1 only. For a class, see docs/instructors.md (Zero to JupyterHub).

tools/hub.py sets the variables read here: the state folder (database, cookie secret, the
users' home folders under users/), the ports, the course's virtual environment and the proxy.
"""

import os
import sys
from pathlib import Path

c = get_config()  # noqa: F821

state = Path(os.environ["COURSE_HUB_STATE"])
venv_bin = Path(os.environ.get("COURSE_HUB_VENV_BIN", Path(sys.executable).parent))

# Only this machine can reach the hub, its internal API and the proxy's API.
c.JupyterHub.bind_url = f"http://127.0.0.1:{os.environ.get('COURSE_HUB_PORT', '8000')}"
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = int(os.environ.get("COURSE_HUB_API_PORT", "8081"))
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{os.environ.get('COURSE_HUB_PROXY_API_PORT', '8001')}"
# configurable-http-proxy from npm (tools/hub.py installs it under the state folder's parent).
c.ConfigurableHTTPProxy.command = [os.environ["COURSE_HUB_PROXY"]]
c.ConfigurableHTTPProxy.pid_file = str(state / "proxy.pid")
c.JupyterHub.pid_file = str(state / "jupyterhub.pid")
c.JupyterHub.db_url = f"sqlite:///{state / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(state / "jupyterhub_cookie_secret")
# Stopping the hub stops the users' servers and the proxy: nothing is left running.
c.JupyterHub.cleanup_servers = True
c.JupyterHub.cleanup_proxy = True

# Any name logs in, no password: "dummy" (allows everyone by default).
c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.admin_users = {"instructor"}

# Each user's server is a process of this machine, home folder users/<name>, no system user
# created ("simple", jupyterhub.spawner.SimpleLocalProcessSpawner).
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = str(state / "users" / "{username}")
# The course's environment: its JupyterLab, nbgitpuller, and the python3 kernel with helpers.
c.Spawner.cmd = [str(venv_bin / "jupyterhub-singleuser")]
c.Spawner.args = ["--allow-root"] if os.geteuid() == 0 else []
c.Spawner.default_url = "/lab"
c.Spawner.environment = {"PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}"}
# A busy machine (a class logging in at once) starts servers slowly.
c.Spawner.start_timeout = 300
c.Spawner.http_timeout = 180
