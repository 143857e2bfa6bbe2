"""The bare-DRF baseline of `make bench`: a Django project with startproject's middleware and
one DRF view doing one indexed SELECT, on the same database, role and server shape as the
product. On the machine the figures were set on it answered ~870 req/s; running it beside the
product in the same bench run tells how fast this machine is today.

Served only by the bench (DJANGO_SETTINGS_MODULE=tools.benchsite.settings), never deployed.
"""
