import os

from django.core.wsgi import get_wsgi_application

from studyproj.gc_policy import freeze_startup_heap

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studyproj.settings")
application = get_wsgi_application()
freeze_startup_heap()  # before gunicorn forks its workers when it preloads
