from streamcore.cli import app

app()
