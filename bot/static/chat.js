// The web chat page. Every text from the bot or the visitor is set as textContent, never parsed as markup.
"use strict";

(function () {
  const list = document.getElementById("messages");
  const form = document.getElementById("composer");
  const input = document.getElementById("input");
  const MAX_TEXT = 2000;
  // Messages go out one at a time, in order, however fast the visitor types or clicks.
  let queue = Promise.resolve();

  function messageId() {
    // crypto.getRandomValues works on plain http too (randomUUID needs a secure context).
    const bytes = new Uint8Array(12);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function scrollToEnd() {
    list.lastElementChild?.scrollIntoView({ block: "end", behavior: "smooth" });
  }

  function addMessage(role, text) {
    const item = document.createElement("li");
    item.className = "msg " + role;
    const bubble = document.createElement("div");
    bubble.className = "bubble";
    bubble.textContent = text;
    item.appendChild(bubble);
    list.appendChild(item);
    return item;
  }

  function addChoices(item, choices, onChoose) {
    if (!choices.length) return;
    const group = document.createElement("div");
    group.className = "choices";
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", "快捷回复");
    for (const choice of choices) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "choice";
      button.textContent = choice;
      // Quick replies carry their text; a local action (retry) has its own handler instead.
      if (onChoose) button.addEventListener("click", onChoose);
      else button.dataset.choice = choice;
      group.appendChild(button);
    }
    item.appendChild(group);
  }

  function addSources(item, sources) {
    if (!sources.length) return;
    const note = document.createElement("p");
    note.className = "sources";
    note.textContent = "来源：" + sources.join("；");
    item.appendChild(note);
  }

  function retireChoices() {
    // Older quick replies belong to questions already answered.
    for (const button of list.querySelectorAll("button.choice")) button.disabled = true;
  }

  function showReply(reply) {
    const item = addMessage("bot", String(reply.text ?? ""));
    addSources(item, Array.isArray(reply.sources) ? reply.sources.map(String) : []);
    addChoices(item, Array.isArray(reply.choices) ? reply.choices.map(String) : []);
  }

  function showError(text, retry) {
    const item = addMessage("bot error", text);
    if (retry) {
      addChoices(item, ["重试"], (event) => {
        event.currentTarget.disabled = true;
        retry();
      });
    }
  }

  async function post(text, id) {
    const typing = addMessage("bot typing", "正在输入…");
    typing.setAttribute("aria-hidden", "true");
    scrollToEnd();
    try {
      const response = await fetch("api/chat", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ text, id }),
      });
      let data = null;
      try {
        data = await response.json();
      } catch (_) {
        data = null;
      }
      typing.remove();
      if (response.ok && data && Array.isArray(data.replies)) {
        data.replies.forEach(showReply);
      } else if (response.status === 403) {
        showError((data && data.error) || "会话已失效，请刷新页面后再试。");
      } else if (response.status >= 500) {
        showError("服务暂时不可用，请稍后重试。", () => send(text, id, false));
      } else {
        showError((data && data.error) || "发送失败，请修改后重试。");
      }
    } catch (_) {
      typing.remove();
      // Resending with the same id is safe: the server answers a message it has seen from its record.
      showError("网络异常，消息可能未送达。", () => send(text, id, false));
    }
    scrollToEnd();
  }

  function send(text, id = messageId(), echo = true) {
    text = text.trim();
    if (!text) return;
    if (text.length > MAX_TEXT) {
      showError("消息太长，请控制在" + MAX_TEXT + "字以内。");
      return;
    }
    retireChoices();
    if (echo) addMessage("user", text);
    scrollToEnd();
    queue = queue.then(() => post(text, id));
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value;
    if (!text.trim()) return;
    input.value = "";
    send(text);
    input.focus();
  });

  input.addEventListener("keydown", (event) => {
    // Enter sends; Shift+Enter breaks the line; Enter that confirms an IME candidate does neither.
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  // Quick replies, including those already in the page's markup, send their text.
  list.addEventListener("click", (event) => {
    const button = event.target.closest("button.choice");
    if (!button || button.disabled || button.dataset.choice === undefined) return;
    send(button.dataset.choice);
  });

  // Messages the bot sends first (reminders) wait on the server until the page asks for them: now, every
  // 20 seconds while the tab is visible, and whenever it becomes visible again. `?poll=<seconds>` shortens
  // the interval (tests), never below a second.
  const INBOX_PAGE = 50;
  const INBOX_KEY = "jd_inbox_last";
  const pollSeconds = Math.max(1, Number(new URLSearchParams(location.search).get("poll")) || 20);
  // The last id shown survives a reload of this tab, so a reminder is not shown twice there.
  let inboxLast = 0;
  try {
    inboxLast = Number(sessionStorage.getItem(INBOX_KEY)) || 0;
  } catch (_) {
    // Storage disabled: remember in memory only.
  }
  let inboxBusy = false;
  let inboxStopped = false;
  let inboxTimer = 0;

  function rememberInbox(id) {
    inboxLast = id;
    try {
      sessionStorage.setItem(INBOX_KEY, String(id));
    } catch (_) {
      // Memory only, as above.
    }
  }

  function showReminder(message) {
    const item = addMessage("bot reminder", String(message.text ?? ""));
    const head = document.createElement("div");
    head.className = "reminder-head";
    const label = document.createElement("span");
    label.className = "label";
    label.textContent = "提醒";
    head.appendChild(label);
    const at = new Date(String(message.at ?? ""));
    if (!Number.isNaN(at.getTime())) {
      const time = document.createElement("time");
      time.dateTime = at.toISOString();
      time.textContent = at.toLocaleString("zh-CN", {
        month: "numeric",
        day: "numeric",
        hour: "2-digit",
        minute: "2-digit",
      });
      head.appendChild(time);
    }
    item.insertBefore(head, item.firstChild);
  }

  async function checkInbox() {
    if (inboxBusy || inboxStopped) return;
    inboxBusy = true;
    try {
      // More than a page waiting (a visitor back after long): fetch on, a few pages at a time.
      for (let page = 0; page < 5; page++) {
        const response = await fetch("api/inbox?after=" + inboxLast, {
          credentials: "same-origin",
          cache: "no-store",
        });
        if (response.status === 403) {
          // The session is gone; the next message the visitor sends says so and asks for a reload.
          inboxStopped = true;
          return;
        }
        if (!response.ok) return;
        const data = await response.json();
        const messages = data && Array.isArray(data.messages) ? data.messages : [];
        for (const message of messages) {
          const id = Number(message.id);
          if (!(id > inboxLast)) continue;
          showReminder(message);
          rememberInbox(id);
        }
        if (messages.length) scrollToEnd();
        if (messages.length < INBOX_PAGE) return;
      }
    } catch (_) {
      // Offline, or the server restarting: the next poll tries again.
    } finally {
      inboxBusy = false;
    }
  }

  function scheduleInbox() {
    clearTimeout(inboxTimer);
    inboxTimer = setTimeout(async () => {
      if (!document.hidden) await checkInbox();
      scheduleInbox();
    }, pollSeconds * 1000);
  }

  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) checkInbox();
  });
  checkInbox();
  scheduleInbox();
})();
