def navigation(request):
    return {"elderly_mode": getattr(request, "elderly_mode", False)}
