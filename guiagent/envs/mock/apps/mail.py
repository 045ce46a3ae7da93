"""Mail client: folders (Inbox, Sent, Drafts), search, a reading pane, and compose windows with validation.

Sending checks every recipient address (``name@domain.tld``, comma separated) and asks before sending without a
subject. Sent mail lands in the store's "sent" folder with the sender ``ME``.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from guiagent.envs.mock import theme
from guiagent.envs.mock.apps.base import App
from guiagent.envs.mock.apps.dialogs import message_box
from guiagent.envs.mock.text import TextStyle
from guiagent.envs.mock.widgets.base import KeyEvent
from guiagent.envs.mock.widgets.basic import SMALL, Button, Label, Panel
from guiagent.envs.mock.widgets.containers import ListItem, ListView
from guiagent.envs.mock.widgets.textedit import TextArea, TextField
from guiagent.envs.mock.wm import Window

ME = "me@example.com"
FOLDERS = (("Inbox", "inbox", "inbox"), ("Sent", "sent", "sent"), ("Drafts", "drafts", "drafts"))
ADDRESS = re.compile(r"^[^@\s,;]+@[^@\s,;]+\.[A-Za-z]{2,}$")
SIDEBAR_W = 190
LIST_H = 210


def split_addresses(text: str) -> list[str]:
    """The addresses in a To/Cc field's text, split at commas or semicolons, blanks dropped."""
    return [a.strip() for a in re.split(r"[,;]", text) if a.strip()]


class MailStore:
    """Messages per folder as plain dicts: id, from, to, cc, subject, body, date, read."""

    def __init__(self) -> None:
        self.folders: dict[str, list[dict]] = {"inbox": [], "sent": [], "drafts": []}
        self._next = 1
        self.version = 0

    @classmethod
    def from_data(cls, data: dict) -> "MailStore":
        """A store filled from an initial state's ``mail`` mapping (folder -> list of message dicts).

        Raises:
            ValueError: a folder other than inbox, sent or drafts.
        """
        s = cls()
        for folder, msgs in data.items():
            if folder not in s.folders:
                raise ValueError(f"unknown mail folder {folder!r}; use inbox, sent or drafts")
            for m in msgs:
                s.add(folder, m)
        return s

    def add(self, folder: str, m: dict) -> dict:
        """Append a message to ``folder`` with a new id; missing fields get defaults.

        Inbox messages start unread unless ``read`` is given; messages in other folders start read.

        Returns:
            The stored message.
        """
        msg = {"id": self._next, "from": m.get("from", ME), "to": m.get("to", ""), "cc": m.get("cc", ""),
               "subject": m.get("subject", ""), "body": m.get("body", ""), "date": m.get("date", ""),
               "read": bool(m.get("read", folder != "inbox"))}
        self._next += 1
        self.folders[folder].append(msg)
        self.version += 1
        return msg

    def remove(self, folder: str, msg_id: int) -> None:
        """Delete message ``msg_id`` from ``folder`` (nothing happens if it is not there)."""
        self.folders[folder] = [m for m in self.folders[folder] if m["id"] != msg_id]
        self.version += 1

    def get(self, folder: str, msg_id: int) -> dict | None:
        """The message ``msg_id`` in ``folder``, or None."""
        for m in self.folders[folder]:
            if m["id"] == msg_id:
                return m
        return None

    def state(self) -> dict:
        """A deep copy of every folder's messages, for ``state()``."""
        return copy.deepcopy(self.folders)


class MailWindow(Window):
    """The main Mail window: Compose button and folder list, search field, message list and reading pane.

    Args:
        app: the MailApp it belongs to.
        rect: ``(x, y, w, h)`` in screen points.
    """
    def __init__(self, app: "MailApp", rect):
        super().__init__("Inbox — Mail", rect, app, icon="mail", on_layout=lambda w: w.layout())
        self.folder = "inbox"
        c = self.content
        self.compose_btn = c.add(Button("Compose", lambda: app.compose(), (12, 12, SIDEBAR_W - 24, 34),
                                        kind="primary", icon="compose"))
        self.folders = c.add(ListView("Folders", (0, 58, SIDEBAR_W, 200), row_h=32,
                                      on_select=lambda it: it is not None and app.show_folder(self, it.data)))
        self.search = c.add(TextField("Search mail", "", (0, 0, 10, theme.FIELD_H), placeholder="Search mail",
                                      on_change=lambda _t: app.refresh(self)))
        self.messages = c.add(ListView("Messages", (0, 0, 10, 10), columns=[("From", 200), ("Subject", 330),
                                                                             ("Date", 120)],
                                       on_select=lambda it: app.show_message(self)))
        self.reader = c.add(Panel("", (0, 0, 10, 10), bg="surface", border=True))
        self.subject = self.reader.add(Label("", (16, 10, 10, 26), TextStyle("bold", 16)))
        self.meta = self.reader.add(Label("", (16, 38, 10, 20), SMALL, color="muted"))
        self.reply_btn = self.reader.add(Button("Reply", lambda: app.reply(self), (0, 10, 80, 28)))
        self.forward_btn = self.reader.add(Button("Forward", lambda: app.forward(self), (0, 10, 90, 28)))
        self.delete_btn = self.reader.add(Button("Delete", lambda: app.delete(self), (0, 10, 80, 28)))
        self.body = self.reader.add(TextArea("Message body", "", (8, 64, 10, 10), readonly=True))
        self.body.focusable = True
        self.layout()

    def layout(self) -> None:
        """Lay out the sidebar, search field, message list and reading pane for the window's size."""
        c = self.content
        right_x = SIDEBAR_W
        rw = c.w - SIDEBAR_W
        self.folders.set_rect(0, 58, SIDEBAR_W, c.h - 58)
        self.search.set_rect(right_x + 10, 12, rw - 20, theme.FIELD_H + 4)
        self.messages.set_rect(right_x, 54, rw, LIST_H)
        top = 54 + LIST_H
        self.reader.set_rect(right_x, top, rw, c.h - top)
        rr = self.reader
        self.subject.set_rect(16, 10, rw - 300, 26)
        self.meta.set_rect(16, 38, rw - 32, 20)
        self.delete_btn.set_rect(rw - 96, 10, 80, 28)
        self.forward_btn.set_rect(rw - 192, 10, 90, 28)
        self.reply_btn.set_rect(rw - 278, 10, 80, 28)
        self.body.set_rect(8, 64, rw - 16, rr.h - 72)


class ComposeWindow(Window):
    """A message being written: Send and Discard buttons, To, Cc and Subject fields, and the body.

    Args:
        app: the MailApp it belongs to.
        rect: ``(x, y, w, h)`` in screen points.
        to: the initial To text.
        cc: the initial Cc text.
        subject: the initial subject.
        body: the initial body.
        draft_id: the draft this window edits (deleted from Drafts when the message is sent or re-saved).
    """
    def __init__(self, app: "MailApp", rect, to: str = "", cc: str = "", subject: str = "", body: str = "",
                 draft_id: int | None = None):
        super().__init__("New Message", rect, app, icon="compose", on_layout=lambda w: w.layout())
        self.draft_id = draft_id
        c = self.content
        self.send_btn = c.add(Button("Send", lambda: app.send(self), (12, 10, 90, 32), kind="primary", icon="sent"))
        self.discard_btn = c.add(Button("Discard", lambda: app.discard(self), (110, 10, 90, 32)))
        self.labels = []
        self.fields: dict[str, TextField] = {}
        for i, (label, value) in enumerate((("To", to), ("Cc", cc), ("Subject", subject))):
            self.labels.append(c.add(Label(label + ":", (12, 54 + i * 38, 70, theme.FIELD_H))))
            self.fields[label] = c.add(TextField(label, value, (84, 54 + i * 38, 10, theme.FIELD_H),
                                                 on_change=lambda _t: self.update_title()))
        self.body = c.add(TextArea("Body", body, (12, 170, 10, 10)))
        self.layout()
        self.update_title()

    def layout(self) -> None:
        """Stretch the fields and the body to the window's size."""
        c = self.content
        for f in self.fields.values():
            f.set_rect(84, f.y, c.w - 96, theme.FIELD_H)
        self.body.set_rect(12, 170, c.w - 24, c.h - 182)

    def update_title(self) -> None:
        """Title the window after the subject ("New Message" while it is empty)."""
        s = self.fields["Subject"].text.strip()
        self.set_title(f"{s} — Compose" if s else "New Message")

    def values(self) -> dict:
        """The message as typed: to and cc (stripped), subject and body."""
        return {"to": self.fields["To"].text.strip(), "cc": self.fields["Cc"].text.strip(),
                "subject": self.fields["Subject"].text, "body": self.body.text}


class MailApp(App):
    """The Mail client: one main window and any number of compose windows over the desktop's MailStore."""
    app_id = "mail"
    title = "Mail"
    icon = "mail"
    aliases = ("email", "e-mail", "mail client", "thunderbird", "outlook", "inbox")

    def __init__(self, desktop):
        super().__init__(desktop)
        self._version = -1

    @property
    def main(self) -> MailWindow | None:
        """The main Mail window, or None when it is not open."""
        for w in self.windows:
            if isinstance(w, MailWindow):
                return w
        return None

    # ------------------------------------------------------------------ lifecycle
    def open(self, **options: Any) -> Window:
        """Open (or raise) the main window, or a compose window.

        Args:
            options: ``compose=True`` or ``compose={to, cc, subject, body}`` opens a compose window instead;
                ``folder=`` shows that folder; ``search=`` fills the search field.

        Returns:
            The window shown.
        """
        if options.get("compose") is not None and options.get("compose") is not False:
            spec = options["compose"] if isinstance(options["compose"], dict) else {}
            return self.compose(**spec)
        main = self.main
        if main is not None:
            self.wm.activate(main)
        else:
            area = self.wm.work_area()
            w, h = min(900, area.w - 40), min(590, area.h - 30)
            x, y = self.wm.place(w, h)
            main = MailWindow(self, (x, y, w, h))
            self.windows.append(main)
            self.wm.add(main)
            self.refresh(main)
        if options.get("folder"):
            self.show_folder(main, options["folder"])
        if options.get("search") is not None:
            main.search.set_text(options["search"])
            self.refresh(main)
        return main

    def compose(self, to: str = "", cc: str = "", subject: str = "", body: str = "",
                draft_id: int | None = None) -> Window:
        """Open a compose window, focused on To (on the body when ``to`` is given).

        Returns:
            The compose window.
        """
        area = self.wm.work_area()
        w, h = min(640, area.w - 40), min(500, area.h - 30)
        x, y = self.wm.place(w, h)
        win = ComposeWindow(self, (x, y, w, h), to, cc, subject, body, draft_id)
        self.windows.append(win)
        self.wm.add(win)
        win.set_focus(win.fields["To"] if not to else win.body)
        return win

    # ------------------------------------------------------------------ reading
    def show_folder(self, win: MailWindow, folder: str) -> None:
        """Show ``folder`` (inbox, sent or drafts) in the message list, clearing the selection."""
        if folder not in self.mail.folders:
            return
        win.folder = folder
        win.messages.select_row(None)
        win.messages.scroll_to(y=0)
        self.refresh(win)

    def _matches(self, m: dict, q: str) -> bool:
        q = q.strip().lower()
        return not q or any(q in str(m[k]).lower() for k in ("from", "to", "cc", "subject", "body"))

    def refresh(self, win: MailWindow) -> None:
        """Re-list the current folder filtered by the search text, update the folder counts, title and reading pane."""
        store = self.mail
        q = win.search.text
        msgs = [m for m in reversed(store.folders[win.folder]) if self._matches(m, q)]
        who = "to" if win.folder in ("sent", "drafts") else "from"
        win.messages.columns[0] = ("To" if who == "to" else "From", 200)
        win.messages.set_items([ListItem(m[who] or "(no recipient)", None, (m["subject"] or "(no subject)",
                                                                            m["date"]), m["id"],
                                         bold=not m["read"]) for m in msgs])
        win.messages.empty_text = "No messages match your search" if q.strip() else "No messages"
        unread = sum(1 for m in store.folders["inbox"] if not m["read"])
        items = []
        for label, key, icon in FOLDERS:
            n = unread if key == "inbox" else len(store.folders[key])
            items.append(ListItem(label, icon, (), key, extra={"count": n},
                                  bold=key == "inbox" and unread > 0))
            if key == "inbox" and unread:
                items[-1].label = f"Inbox ({unread})"
        win.folders.set_items(items, keep_selection=False)
        for r in win.folders.rows:
            if r.item.data == win.folder:
                win.folders.selected = r
        titles = {k: lab for lab, k, _ in FOLDERS}
        win.set_title(f"{titles[win.folder]} — Mail")
        self.show_message(win)
        self._version = store.version

    def show_message(self, win: MailWindow) -> None:
        """Show the selected message in the reading pane, marking it read; clear the pane without one."""
        m = self.selected(win)
        for b in (win.reply_btn, win.forward_btn, win.delete_btn):
            b.set_visible(m is not None)
        if m is None:
            win.subject.set_text("")
            win.meta.set_text("")
            win.body.set_text("")
            return
        if not m["read"]:
            m["read"] = True
            row = win.messages.selected
            row.item.bold = False
            row.invalidate()
            self.mail.version += 1
        win.subject.set_text(m["subject"] or "(no subject)")
        cc = f"   Cc: {m['cc']}" if m["cc"] else ""
        win.meta.set_text(f"From: {m['from']}   To: {m['to']}{cc}   {m['date']}")
        if win.body.text != m["body"]:
            win.body.set_text(m["body"])

    def selected(self, win: MailWindow) -> dict | None:
        """The selected message of ``win``'s folder, or None."""
        item = win.messages.selected_item
        return self.mail.get(win.folder, item.data) if item is not None else None

    def reply(self, win: MailWindow) -> None:
        """Compose a reply to the selected message: "Re:" subject and the quoted body."""
        m = self.selected(win)
        if m is None:
            return
        subj = m["subject"] if m["subject"].lower().startswith("re:") else f"Re: {m['subject']}"
        quoted = "\n".join("> " + line for line in m["body"].split("\n"))
        to = m["from"] if win.folder == "inbox" else m["to"]
        self.compose(to=to, subject=subj, body=f"\n\nOn {m['date']}, {m['from']} wrote:\n{quoted}")

    def forward(self, win: MailWindow) -> None:
        """Compose a forward of the selected message: "Fwd:" subject and the original below a marker."""
        m = self.selected(win)
        if m is None:
            return
        self.compose(subject=f"Fwd: {m['subject']}", body=f"\n\n---------- Forwarded message ----------\n"
                     f"From: {m['from']}\nSubject: {m['subject']}\n\n{m['body']}")

    def delete(self, win: MailWindow) -> None:
        """Delete the selected message from its folder."""
        m = self.selected(win)
        if m is not None:
            self.mail.remove(win.folder, m["id"])
            self.refresh(win)

    # ------------------------------------------------------------------ sending
    def send(self, win: ComposeWindow, confirmed: bool = False) -> None:
        """Send the compose window's message to the Sent folder and close the window, after validation.

        A missing or invalid address is reported in a message box; an empty subject asks first.

        Args:
            win: the compose window.
            confirmed: the user already agreed to send without a subject.
        """
        v = win.values()
        rcpts = split_addresses(v["to"])
        if not rcpts:
            message_box(self.d, win, "Cannot send", "Please enter at least one recipient in the To field.",
                        icon="warning")
            return
        bad = [a for a in rcpts + split_addresses(v["cc"]) if not ADDRESS.match(a)]
        if bad:
            message_box(self.d, win, "Cannot send", f"{bad[0]!r} is not a valid email address.", icon="warning")
            return
        if not v["subject"].strip() and not confirmed:
            message_box(self.d, win, "No subject", "Send this message without a subject?", ("Send", "Cancel"),
                        lambda lab: lab == "Send" and self.send(win, confirmed=True), icon="warning")
            return
        when = self.d.clock_text().replace("|", " ")
        self.mail.add("sent", {"from": ME, "to": ", ".join(rcpts), "cc": ", ".join(split_addresses(v["cc"])),
                                 "subject": v["subject"], "body": v["body"], "date": when})
        if win.draft_id is not None:
            self.mail.remove("drafts", win.draft_id)
        self.wm.close(win)

    def discard(self, win: ComposeWindow) -> None:
        """Close the compose window without saving anything."""
        self.wm.close(win)

    def can_close(self, win: Window) -> bool:
        """Allow closing an empty compose window; otherwise ask Save Draft / Discard / Cancel and veto for now."""
        if not isinstance(win, ComposeWindow):
            return True
        v = win.values()
        if not any(v.values()):
            return True

        def answer(label: str) -> None:
            if label == "Save Draft":
                if win.draft_id is not None:
                    self.mail.remove("drafts", win.draft_id)
                self.mail.add("drafts", {**v, "from": ME, "date": self.d.clock_text().replace("|", " ")})
                self.wm.close(win)
            elif label == "Discard":
                self.wm.close(win)

        message_box(self.d, win, "Mail", "Save this message as a draft?", ("Save Draft", "Discard", "Cancel"),
                    answer, icon="warning")
        return False

    def on_key(self, win: Window, ev: KeyEvent) -> bool:
        """The Mail shortcuts; returns True when one was used.

        In a compose window ctrl+enter or alt+s sends; in the main window ctrl+n composes, ctrl+f/ctrl+e search,
        ctrl+r replies and Delete (in the message list) deletes.
        """
        if isinstance(win, ComposeWindow) and ev.combo in ("ctrl+enter", "alt+s"):
            self.send(win)
            return True
        if isinstance(win, MailWindow):
            if ev.combo == "ctrl+n":
                self.compose()
                return True
            if ev.combo in ("ctrl+f", "ctrl+e"):
                win.set_focus(win.search)
                win.search.select_all()
                return True
            if ev.combo == "ctrl+r":
                self.reply(win)
                return True
            if ev.combo == "delete" and win.focus_widget is win.messages:
                self.delete(win)
                return True
        return False

    def sync(self) -> None:
        """Refresh the main window when the mail store changed since it was last shown."""
        main = self.main
        if main is not None and self.mail.version != self._version:
            self.refresh(main)

    def state(self) -> dict:
        """Open compose windows' contents; with the main window open, its folder, search, selection and listing."""
        main = self.main
        out: dict[str, Any] = {"compose": [{"window_id": w.wid, **w.values()} for w in self.windows
                                           if isinstance(w, ComposeWindow)]}
        if main is not None:
            sel = self.selected(main)
            out.update({"folder": main.folder, "search": main.search.text,
                        "selected": sel["id"] if sel else None,
                        "shown": [it.data for it in main.messages.items]})
        return out


__all__ = ["ME", "MailApp", "MailStore"]
