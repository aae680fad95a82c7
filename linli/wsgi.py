import os

from django.core.wsgi import get_wsgi_application

from linli.ops.private import private_umask

# Files a web process creates (the database, uploads' temporary files) are private.
private_umask()
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linli.settings")

application = get_wsgi_application()
