"""Supporting documents of an action (funding justifications), visible to validators only."""

from models import Action, SupportingDocument, User, db
from sofi.services.errors import DomainError
from sofi.services.offer import check_editable

MAX_SIZE = 10 * 1024 * 1024
# Accepted types, recognised by their first bytes (the name and the declared type can lie).
SIGNATURES = {
    b"%PDF-": "application/pdf",
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
    b"PK\x03\x04": "application/zip",  # OpenDocument and Office Open XML files
}
EXTENSIONS = {
    "application/pdf": {"pdf"},
    "image/png": {"png"},
    "image/jpeg": {"jpg", "jpeg"},
    "application/zip": {"odt", "docx"},
}


def _content_type(filename: str, data: bytes) -> str:
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    for signature, content_type in SIGNATURES.items():
        if data.startswith(signature) and extension in EXTENSIONS[content_type]:
            return "application/octet-stream" if content_type == "application/zip" else content_type
    raise DomainError("Format refusé : joignez un PDF, une image PNG ou JPEG, ou un document ODT ou DOCX.", "document")


def add_document(user: User, action: Action, filename: str, data: bytes) -> SupportingDocument:
    check_editable(user, action)
    filename = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()[:255]
    if not filename or not data:
        raise DomainError("Choisissez un fichier à joindre.", "document")
    if len(data) > MAX_SIZE:
        raise DomainError("Le fichier dépasse 10 Mo.", "document")
    document = SupportingDocument(
        action_id=action.id,
        filename=filename,
        content_type=_content_type(filename, data),
        size=len(data),
        content=data,
        uploaded_by_id=user.id,
    )
    db.session.add(document)
    db.session.commit()
    return document


def delete_document(user: User, document: SupportingDocument) -> None:
    action = db.session.get(Action, document.action_id)
    check_editable(user, action)
    db.session.delete(document)
    db.session.commit()
