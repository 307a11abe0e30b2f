"""长辈模式 (elderly mode): a cookie that doubles the type size and hides what is optional."""

ELDERLY_COOKIE = "jiedao_elderly"


class ElderlyModeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.elderly_mode = request.COOKIES.get(ELDERLY_COOKIE) == "1"
        return self.get_response(request)
