"""Settings from `KUNDENPORTAL_*` environment variables and an optional `.env` file (docs/design.md "Interfaces")."""

from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

import profiles
from domain.profile import UtilityProfile

DEFAULT_SECRET = 'change-me'
PROFILES = Path(profiles.__file__).resolve().parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix='KUNDENPORTAL_', env_file='.env', extra='ignore')

    database_url: str = ''
    data_dir: Path = Path('data')
    host: str = '0.0.0.0'
    port: int = Field(default=8080, ge=1, le=65535)
    base_url: str = ''
    profile: str = 'stadtwerke-a'
    storage_secret: str = DEFAULT_SECRET
    smtp_host: str = ''
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_user: str = ''
    smtp_password: str = ''
    smtp_starttls: bool = False
    mail_from: str = ''
    demo: bool = False
    redis_url: str = ''
    mail_poll_seconds: float = Field(default=2.0, gt=0, le=3600)
    max_body_mb: float = Field(default=32, gt=0, le=1024)  # any request body: API, forms (413 beyond)
    max_upload_mb: float = Field(default=200, gt=0, le=4096)  # the back office's CSV import (per file)
    tuning: bool = True  # the measured shortcuts below NiceGUI's and other libraries' API (service.tuning)
    tuning_skip: str = ''  # names of single shortcuts to leave off, comma-separated

    @model_validator(mode='after')
    def _refuse_default_secret(self) -> 'Settings':
        if not self.demo and self.storage_secret == DEFAULT_SECRET:
            raise ValueError(
                'KUNDENPORTAL_STORAGE_SECRET must be set to a long random value outside demo mode (KUNDENPORTAL_DEMO=1)'
            )
        if not self.demo and len(self.storage_secret) < 16:
            raise ValueError('KUNDENPORTAL_STORAGE_SECRET must be at least 16 characters long')
        return self

    @property
    def url(self) -> str:
        return self.database_url or f'sqlite:///{(self.data_dir / "kundenportal.db").resolve()}'

    @property
    def public_url(self) -> str:
        return (self.base_url or f'http://localhost:{self.port}').rstrip('/')

    @property
    def tuning_skipped(self) -> frozenset[str]:
        return frozenset(name.strip() for name in self.tuning_skip.split(',') if name.strip())

    @property
    def documents_dir(self) -> Path:
        """Bill PDFs (imported and computed) live in its `bills/` folder."""
        return self.data_dir / 'documents'

    @property
    def outbox_dir(self) -> Path:
        return self.data_dir / 'outbox'

    @property
    def sender_address(self) -> str:
        return self.mail_from or self.load_profile().email

    def load_profile(self) -> UtilityProfile:
        """A shipped profile by name (`stadtwerke-a`), or the utility's own file by path (`/etc/portal.toml`)."""
        path = Path(self.profile) if self.profile.endswith('.toml') else PROFILES / f'{self.profile}.toml'
        if not path.is_file():
            known = ', '.join(sorted(p.stem for p in PROFILES.glob('*.toml')))
            raise ValueError(f'unknown profile {self.profile!r}; known profiles: {known}')
        profile = UtilityProfile.from_toml(path.read_text(encoding='utf-8'))
        if profile.bill.logo:  # relative to the profile file; checked here, not when the first bill is rendered
            logo = (path.parent / profile.bill.logo).resolve()
            if not logo.is_file() or logo.suffix.lower() not in ('.png', '.jpg', '.jpeg'):
                raise ValueError(
                    f'profile {self.profile!r}: [bill] logo {profile.bill.logo!r} is not a PNG or JPEG '
                    f'file (looked for {logo})'
                )
            profile = profile.model_copy(update={'bill': profile.bill.model_copy(update={'logo': str(logo)})})
        return profile
