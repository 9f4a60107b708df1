# Страница «Узлы и синхронизация» (/peers).

nav-peers = Узлы и синхронизация
peers-title = Узлы и синхронизация
peers-no-node = Интерфейс работает без узла, поэтому показать об узлах и синхронизации нечего.
peers-no-answer = Узел не ответил за 2 секунды. Возможно, он занят; попробуйте ещё раз чуть позже.
peers-refresh = Обновить
peers-this-node = Этот узел
peers-archive = Архив
peers-records = { $count ->
    [one] { $count } запись
    [few] { $count } записи
    [many] { $count } записей
   *[other] { $count } записи
}
peers-peers = Узлы
peers-connected = подключено: { $count }, известно: { $known }
peers-heading = Узлы
peers-none = Узлов пока нет. Узлы в одной локальной сети находят друг друга сами; для остальных нужен адрес (qoima node --peer).
peers-col-peer = Узел
peers-col-state = Состояние
peers-col-last-sync = Последняя синхронизация
peers-col-received = Получено
peers-col-declined = Отклонено правилами
peers-col-strikes = Нарушения
peers-col-ban = Блокировка
peers-columns-meaning = Узел показан только концом его сетевого имени. «Получено» и «Отклонено правилами» считают записи с момента запуска этого узла; отклонённая запись подлинна, но не сохраняется по вашим настройкам, и узел в этом не виноват. «Нарушения» считают недопустимые сообщения; при слишком многих узел блокируется на время.
peers-state-connected = подключён
peers-state-known = не подключён
peers-never-synced = ни разу
peers-last-sync = { $ago } ({ $when }), принесла { $count ->
    [one] { $count } запись
    [few] { $count } записи
    [many] { $count } записей
   *[other] { $count } записи
}
peers-not-banned = нет
peers-banned-until = до { $when }
peers-more = { $count ->
    [one] и ещё { $count }
    [few] и ещё { $count }
    [many] и ещё { $count }
   *[other] и ещё { $count }
}
peers-transfers-heading = Загрузка вложений
peers-no-transfers = Сейчас никакие вложения не загружаются.
peers-transfer-progress = { $have } из { $size } ({ $percent }%)
peers-transfer-speed = { $size }/с
peers-transfer-sources = { $count ->
    [one] от { $count } узла
    [few] от { $count } узлов
    [many] от { $count } узлов
   *[other] от { $count } узла
}
peers-budget = Лимит вложений на этот запуск: использовано { $used } из { $budget }.

ago-now = только что
ago-minutes = { $count ->
    [one] { $count } минуту назад
    [few] { $count } минуты назад
    [many] { $count } минут назад
   *[other] { $count } минуты назад
}
ago-hours = { $count ->
    [one] { $count } час назад
    [few] { $count } часа назад
    [many] { $count } часов назад
   *[other] { $count } часа назад
}
ago-days = { $count ->
    [one] { $count } день назад
    [few] { $count } дня назад
    [many] { $count } дней назад
   *[other] { $count } дня назад
}

size-with-unit = { $value } { $unit }
unit-bytes = Б
unit-kb = КБ
unit-mb = МБ
unit-gb = ГБ
unit-tb = ТБ
