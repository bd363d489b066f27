// Every text the widget shows, in its three locales.
const TEXTS = {
  en: {
    open: "Open chat", chat: "Chat", close: "Close chat", minimise: "Minimise chat", messages: "Messages",
    message: "Message", send: "Send", attach: "Attach file", title: "Chat with us",
    greeting: "Hi! How can we help?", online: "We're online", away: "Nobody is online right now",
    waiting: "Waiting for an agent…", position: "You are number {n} in the queue.", assigned: "{name} joined the chat", bot: "You are chatting with our assistant",
    ended: "This chat has ended. Write to start a new one.", typing: "{name} is typing…",
    start: "Start chat", name: "Your name", email: "Your email", offlineIntro: "We're away. Leave a message and we'll answer by email.",
    leave: "Leave a message", left: "Thanks! We'll get back to you by email.", refused: "This chat is not enabled for this site",
    maxSize: "Files up to {size}", uploading: "Uploading {percent}%", tooBig: "{file} is larger than {size}",
    sent: "Sent", delivered: "Delivered", seen: "Seen", failed: "Not sent", sending: "Sending…",
    chosen: "You chose: {value}", rate: "Rate {n} of 5", comment: "Comment (optional)", submit: "Send rating",
    thanks: "Thanks for your rating: {value}", sound: "Sound", reconnecting: "Reconnecting…", unread: "{n} unread",
    drop: "Drop files to send", picture: "Picture", visitor: "Visitor", tooMany: "Too many messages; wait a moment.", error: "Something went wrong: {message}",
  },
  "pt-BR": {
    open: "Abrir chat", chat: "Chat", close: "Encerrar chat", minimise: "Minimizar chat", messages: "Mensagens",
    message: "Mensagem", send: "Enviar", attach: "Anexar arquivo", title: "Fale conosco",
    greeting: "Olá! Como podemos ajudar?", online: "Estamos online", away: "Ninguém está online agora",
    waiting: "Aguardando um atendente…", position: "Você é o número {n} na fila.", assigned: "{name} entrou no chat", bot: "Você está falando com nosso assistente",
    ended: "Este chat foi encerrado. Escreva para começar outro.", typing: "{name} está digitando…",
    start: "Iniciar chat", name: "Seu nome", email: "Seu e-mail", offlineIntro: "Estamos ausentes. Deixe uma mensagem e responderemos por e-mail.",
    leave: "Deixar mensagem", left: "Obrigado! Responderemos por e-mail.", refused: "Este chat não está habilitado para este site",
    maxSize: "Arquivos de até {size}", uploading: "Enviando {percent}%", tooBig: "{file} é maior que {size}",
    sent: "Enviada", delivered: "Entregue", seen: "Vista", failed: "Não enviada", sending: "Enviando…",
    chosen: "Você escolheu: {value}", rate: "Nota {n} de 5", comment: "Comentário (opcional)", submit: "Enviar avaliação",
    thanks: "Obrigado pela avaliação: {value}", sound: "Som", reconnecting: "Reconectando…", unread: "{n} não lidas",
    drop: "Solte arquivos para enviar", picture: "Imagem", visitor: "Visitante", tooMany: "Mensagens demais; aguarde um pouco.", error: "Algo deu errado: {message}",
  },
  uk: {
    open: "Відкрити чат", chat: "Чат", close: "Завершити чат", minimise: "Згорнути чат", messages: "Повідомлення",
    message: "Повідомлення", send: "Надіслати", attach: "Додати файл", title: "Напишіть нам",
    greeting: "Вітаємо! Чим можемо допомогти?", online: "Ми на зв'язку", away: "Зараз нікого немає на зв'язку",
    waiting: "Очікуємо на оператора…", position: "Ваш номер у черзі: {n}.", assigned: "{name} приєднується до чату", bot: "Ви спілкуєтеся з нашим асистентом",
    ended: "Чат завершено. Напишіть, щоб почати новий.", typing: "{name} друкує…",
    start: "Почати чат", name: "Ваше ім'я", email: "Ваш e-mail", offlineIntro: "Нас немає на зв'язку. Залиште повідомлення, і ми відповімо на e-mail.",
    leave: "Залишити повідомлення", left: "Дякуємо! Ми відповімо на e-mail.", refused: "Цей чат не ввімкнено для цього сайту",
    maxSize: "Файли до {size}", uploading: "Завантаження {percent}%", tooBig: "{file} більший за {size}",
    sent: "Надіслано", delivered: "Доставлено", seen: "Переглянуто", failed: "Не надіслано", sending: "Надсилання…",
    chosen: "Ваш вибір: {value}", rate: "Оцінка {n} з 5", comment: "Коментар (необов'язково)", submit: "Надіслати оцінку",
    thanks: "Дякуємо за оцінку: {value}", sound: "Звук", reconnecting: "Перепідключення…", unread: "{n} непрочитаних",
    drop: "Перетягніть файли сюди", picture: "Зображення", visitor: "Відвідувач", tooMany: "Забагато повідомлень; зачекайте трохи.", error: "Щось пішло не так: {message}",
  },
};

export const LOCALES = Object.keys(TEXTS);
export const KEYS = Object.fromEntries(LOCALES.map((l) => [l, Object.keys(TEXTS[l]).sort()]));

export function pickLocale(wanted, languages) {
  for (const tag of [wanted, ...(languages || [])].filter(Boolean)) {
    if (TEXTS[tag]) return tag;
    const base = tag.split("-")[0].toLowerCase();
    if (base === "pt") return "pt-BR";
    if (TEXTS[base]) return base;
  }
  return "en";
}

export function translator(locale) {
  const table = TEXTS[locale] || TEXTS.en;
  return (key, values = {}) => (table[key] ?? TEXTS.en[key] ?? key).replace(/\{(\w+)\}/g, (_, k) => String(values[k] ?? ""));
}

export function size(bytes) {
  if (bytes >= 1024 * 1024) return `${Math.round((bytes / (1024 * 1024)) * 10) / 10} MB`;
  return `${Math.max(1, Math.round(bytes / 1024))} KB`;
}
