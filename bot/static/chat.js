// The web chat page. Every text from the bot or the visitor is set as textContent, never parsed as markup.
"use strict";

(function () {
  const list = document.getElementById("messages");
  const form = document.getElementById("composer");
  const input = document.getElementById("input");
  const panel = document.getElementById("requests-panel");
  const panelList = document.getElementById("requests-list");
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

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function addMessage(role, text) {
    const item = element("li", "msg " + role);
    item.appendChild(element("div", "bubble", String(text)));
    list.appendChild(item);
    return item;
  }

  // A long answer's "来源：…" and "原文…" lines are its tail: shown on demand, so the answer reads on a phone.
  const TAIL = /^(来源[:：]|原文[:：]|来源文件[:：])/;
  const LONG = 160;

  function collapseTail(item, text) {
    const lines = text.split("\n");
    const cut = lines.findIndex((line) => TAIL.test(line));
    if (cut <= 0 || text.length < LONG) return;
    const bubble = item.querySelector(".bubble");
    bubble.textContent = lines.slice(0, cut).join("\n");
    const more = element("details", "tail");
    more.appendChild(element("summary", "", "查看出处与原文"));
    more.appendChild(element("p", "", lines.slice(cut).join("\n")));
    bubble.appendChild(more);
  }

  function choiceButton(choice, className, onChoose) {
    const button = element("button", "choice" + (className ? " " + className : ""), choice);
    button.type = "button";
    // Quick replies carry their text; a local action (retry, open a panel) has its own handler instead.
    if (onChoose) button.addEventListener("click", onChoose);
    else button.dataset.choice = choice;
    return button;
  }

  function addChoices(item, choices, onChoose) {
    if (!choices.length) return;
    const group = element("div", "choices");
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", "快捷回复");
    for (const choice of choices) group.appendChild(choiceButton(choice, "", onChoose));
    item.appendChild(group);
  }

  // The irreversible step: the summary full width, a large 确认弃考, 修改 beside it, 取消 set apart below.
  function addConfirmChoices(item, choices) {
    item.classList.add("confirm");
    // The summary just before it is read in full too.
    const summary = item.previousElementSibling;
    if (summary && summary.classList.contains("bot")) summary.classList.add("confirm-summary");
    const main = element("div", "choices confirm-actions");
    main.setAttribute("role", "group");
    main.setAttribute("aria-label", "确认或修改");
    const apart = element("div", "choices confirm-cancel");
    apart.setAttribute("role", "group");
    apart.setAttribute("aria-label", "取消办理");
    for (const choice of choices) {
      if (choice === "确认弃考") main.prepend(choiceButton(choice, "primary"));
      else if (choice.startsWith("取消")) apart.appendChild(choiceButton(choice, "cancel"));
      else main.appendChild(choiceButton(choice, "secondary"));
    }
    item.appendChild(main);
    if (apart.childElementCount) item.appendChild(apart);
  }

  function addSources(item, sources) {
    if (!sources.length) return;
    item.appendChild(element("p", "sources", "来源：" + sources.join("；")));
  }

  function retireChoices() {
    // Older quick replies belong to questions already answered.
    for (const button of list.querySelectorAll("button.choice[data-choice]")) button.disabled = true;
  }

  function showReply(reply) {
    const text = String(reply.text ?? "");
    const item = addMessage("bot", text);
    collapseTail(item, text);
    addSources(item, Array.isArray(reply.sources) ? reply.sources.map(String) : []);
    const choices = Array.isArray(reply.choices) ? reply.choices.map(String) : [];
    if (choices.includes("确认弃考")) addConfirmChoices(item, choices);
    else addChoices(item, choices);
    return item;
  }

  function showError(text, retry) {
    const item = addMessage("bot error", text);
    if (retry) {
      addChoices(item, ["重试"], (event) => {
        event.currentTarget.disabled = true;
        retry();
      });
    }
    return item;
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

  // Quick replies, including those already in the page's markup, send their text; the keyboard then
  // goes back to the input, where the next answer is typed.
  list.addEventListener("click", (event) => {
    const button = event.target.closest("button.choice");
    if (!button || button.disabled || button.dataset.choice === undefined) return;
    send(button.dataset.choice);
    input.focus({ preventScroll: true });
  });

  // -- messages the bot sends first ----------------------------------------------------------------
  // Reminders, a request's new status and staff replies wait on the server. While the page is open it
  // holds a request open (a long poll) that the server answers as soon as one is stored; when that fails
  // it asks every 20 seconds instead. `?poll=<seconds>` shortens both (tests), never below a second.
  const INBOX_PAGE = 50;
  const INBOX_KEY = "jd_inbox_last";
  const pollSeconds = Math.max(1, Number(new URLSearchParams(location.search).get("poll")) || 20);
  const longPollSeconds = Math.min(25, Math.max(1, pollSeconds));
  // The last id shown survives a reload of this tab, so a message is not shown twice there.
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
    if (!(id > inboxLast)) return;
    inboxLast = id;
    try {
      sessionStorage.setItem(INBOX_KEY, String(id));
    } catch (_) {
      // Memory only, as above.
    }
  }

  const KINDS = {
    reminder: { label: "提醒", className: "reminder" },
    request_status: { label: "办件进度", className: "status" },
    staff_reply: { label: "人工客服回复", className: "staff" },
  };

  function showPushed(message) {
    const kind = KINDS[message.kind] || { label: "通知", className: "reminder" };
    const item = addMessage("bot pushed " + kind.className, String(message.text ?? ""));
    const head = element("div", "pushed-head");
    head.appendChild(element("span", "label", kind.label));
    const at = new Date(String(message.at ?? ""));
    if (!Number.isNaN(at.getTime())) {
      const time = element("time", "", at.toLocaleString("zh-CN", {
        month: "numeric",
        day: "numeric",
        hour: "2-digit",
        minute: "2-digit",
      }));
      time.dateTime = at.toISOString();
      head.appendChild(time);
    }
    item.insertBefore(head, item.firstChild);
    if (message.kind === "request_status") addChoices(item, ["查看我的申请"], () => openRequests());
    if (message.kind === "staff_reply") addChoices(item, ["回复"], () => input.focus());
    return item;
  }

  async function checkInbox(wait) {
    if (inboxBusy || inboxStopped) return true;
    inboxBusy = true;
    try {
      // More than a page waiting (a visitor back after long): fetch on, a few pages at a time.
      for (let page = 0; page < 5; page++) {
        const held = page === 0 && wait ? "&wait=" + longPollSeconds : "";
        const response = await fetch("api/inbox?after=" + inboxLast + held, {
          credentials: "same-origin",
          cache: "no-store",
        });
        if (response.status === 403) {
          // The session is gone; the next message the visitor sends says so and asks for a reload.
          inboxStopped = true;
          return true;
        }
        if (!response.ok) return false;
        const data = await response.json();
        const messages = data && Array.isArray(data.messages) ? data.messages : [];
        for (const message of messages) {
          const id = Number(message.id);
          if (!(id > inboxLast)) continue;
          showPushed(message);
          rememberInbox(id);
        }
        if (messages.length) scrollToEnd();
        if (messages.length < INBOX_PAGE) return true;
      }
      return true;
    } catch (_) {
      // Offline, or the server restarting: polling takes over until it answers again.
      return false;
    } finally {
      inboxBusy = false;
    }
  }

  function scheduleInbox(delay) {
    clearTimeout(inboxTimer);
    inboxTimer = setTimeout(async () => {
      if (document.hidden || inboxStopped) return scheduleInbox(pollSeconds * 1000);
      const ok = await checkInbox(true);
      scheduleInbox(ok ? 0 : pollSeconds * 1000);
    }, delay);
  }

  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) scheduleInbox(0);
  });

  // -- 我的办件 --------------------------------------------------------------------------------------
  function copyButton(reference) {
    const button = element("button", "copy", "复制");
    button.type = "button";
    button.setAttribute("aria-label", "复制受理编号 " + reference);
    button.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(reference);
        button.textContent = "已复制";
      } catch (_) {
        // No clipboard (plain http): select the number so the visitor can copy it by hand.
        const code = button.previousElementSibling;
        const range = document.createRange();
        range.selectNodeContents(code);
        const selection = getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
        button.textContent = "已选中，请长按复制";
      }
    });
    return button;
  }

  function showRequests(requests) {
    panelList.replaceChildren();
    if (!requests.length) {
      panelList.appendChild(element("p", "empty", "您还没有提交过退考退费申请。需要办理请在对话中发送“退考退费”。"));
      return;
    }
    for (const request of requests) {
      const card = element("article", "request");
      const head = element("p", "reference");
      head.appendChild(element("span", "", "受理编号 "));
      head.appendChild(element("code", "", String(request.reference)));
      head.appendChild(copyButton(String(request.reference)));
      card.appendChild(head);
      card.appendChild(element("p", "title", String(request.title)));
      card.appendChild(element("p", "status", "当前状态：" + String(request.status)));
      const steps = element("ol", "timeline");
      for (const step of request.steps || []) {
        const item = element("li", step.done ? "done" : "todo");
        item.appendChild(element("span", "step", String(step.label)));
        if (step.at) item.appendChild(element("span", "at", String(step.at)));
        if (step.note) item.appendChild(element("span", "note", String(step.note)));
        steps.appendChild(item);
      }
      card.appendChild(steps);
      panelList.appendChild(card);
    }
  }

  async function openRequests() {
    panel.hidden = false;
    document.getElementById("requests-toggle").setAttribute("aria-expanded", "true");
    panelList.replaceChildren(element("p", "empty", "正在加载…"));
    panel.querySelector("h2").focus();
    try {
      const response = await fetch("api/requests", { credentials: "same-origin", cache: "no-store" });
      const data = await response.json();
      if (!response.ok) throw new Error(data && data.error);
      showRequests(Array.isArray(data.requests) ? data.requests : []);
    } catch (error) {
      panelList.replaceChildren(element("p", "empty error", (error && error.message) || "暂时无法加载，请稍后再试。"));
    }
  }

  function closeRequests() {
    panel.hidden = true;
    const toggle = document.getElementById("requests-toggle");
    toggle.setAttribute("aria-expanded", "false");
    toggle.focus();
  }

  document.getElementById("requests-toggle").addEventListener("click", () => {
    if (panel.hidden) openRequests();
    else closeRequests();
  });
  document.getElementById("requests-close").addEventListener("click", closeRequests);
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !panel.hidden) closeRequests();
  });

  // -- 大字模式 (适老化) ----------------------------------------------------------------------------
  const large = document.getElementById("large-text");
  function setLarge(on) {
    document.documentElement.classList.toggle("large", on);
    large.setAttribute("aria-pressed", on ? "true" : "false");
    try {
      localStorage.setItem("jd_large", on ? "1" : "0");
    } catch (_) {
      // Not remembered: the toggle still works for this visit.
    }
  }
  try {
    setLarge(localStorage.getItem("jd_large") === "1");
  } catch (_) {
    setLarge(false);
  }
  large.addEventListener("click", () => setLarge(large.getAttribute("aria-pressed") !== "true"));

  // -- coming back -----------------------------------------------------------------------------------
  // A reload shows the conversation again from the server (masked as staff see it), the messages the
  // bot sent first, and the question an open form is waiting on.
  async function restore() {
    let data;
    try {
      const response = await fetch("api/history", { credentials: "same-origin", cache: "no-store" });
      if (response.status === 403) return;
      if (!response.ok) throw new Error(String(response.status));
      data = await response.json();
    } catch (_) {
      showError("暂时无法连接服务器，之前的对话没有加载。请检查网络后刷新页面；也可以直接发送消息重试。");
      return;
    }
    const lines = Array.isArray(data.lines) ? data.lines : [];
    const pushed = Array.isArray(data.messages) ? data.messages : [];
    if (!lines.length && !pushed.length && !data.waiting) return;
    list.appendChild(element("li", "divider", "以下是您最近的对话"));
    // Lines and pushed messages in the order they happened.
    const items = [
      ...lines.map((line) => ({ at: String(line.at), show: () => addMessage(line.dir === "in" ? "user" : "bot", String(line.text)) })),
      ...pushed.map((message) => ({ at: String(message.at), show: () => showPushed(message) })),
    ];
    items.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
    for (const item of items) item.show();
    for (const message of pushed) rememberInbox(Number(message.id));
    retireChoices();
    if (data.waiting) {
      const item = showReply(data.waiting);
      item.classList.add("waiting");
    }
    scrollToEnd();
  }

  restore().finally(() => scheduleInbox(0));
})();
