# Интерфейс по-русски. Каждый id здесь есть и в en/main.ftl, и в kk/main.ftl
# (это проверяет тест).

app-name = qoima
skip-to-content = Перейти к содержанию
nav-label = Главное меню
nav-archive = Архив
lang-switch-label = Язык
lang-name-kk = Қазақша
lang-name-ru = Русский
lang-name-en = English
lock-button = Заблокировать
lock-hint = Узел забывает ключ и останавливается

archive-title = Архив
archive-search-label = Поиск
archive-kind-label = Вид
archive-kind-all = Все виды
archive-place-label = Место
archive-only-author = Только записи, подписанные { $author }.
archive-all-authors = Показать всех авторов
archive-by-author = Только записи этого автора
archive-since-label = Написано с
archive-bad-since = Дата в адресе непонятна; показаны записи за все даты.
archive-apply = Показать
archive-count = { $count ->
    [one] { $count } запись
    [few] { $count } записи
    [many] { $count } записей
   *[other] { $count } записи
}
archive-on-page = На этой странице: { archive-count }
archive-not-yet-searchable = Ещё не доступны для поиска: { archive-count } этого архива, здесь их может не хватать. Узел делает их доступными для поиска (после обновления или большого импорта). Повторите поиск через несколько минут.
archive-empty = Здесь нет записей.
archive-bad-kind = Вид записи в адресе неизвестен; показаны все виды.
archive-bad-page = Такой страницы нет; показана первая.
archive-bad-author = Такой автор в этом архиве неизвестен; показаны все авторы.
pages-label = Страницы
page-newer = ← Новее
page-older = Старше →

record-kind = Вид
record-created = Написано (по словам автора)
record-occurred = Произошло
record-place = Место
record-coordinates = Координаты
record-coordinates-value = { $lat }, { $lon }
record-coordinates-within = { $lat }, { $lon }, с точностью до { $radius } м
record-tags = Метки
record-author = Автор
record-seq = № { $count }
record-trust = Доверие
record-id = Идентификатор записи
record-suspect-short = под сомнением
record-suspect = ПОД СОМНЕНИЕМ: ключ отозван раньше, чем запись якобы написана и чем этот архив её впервые увидел; её мог сделать тот, у кого ключ сейчас.
record-sealed-readable = { $count ->
    [one] Часть записи запечатана для { $count } получателя, и это вы; она показана ниже.
   *[other] Часть записи запечатана для { $count } получателей, и вы среди них; она показана ниже.
}
record-sealed-damaged = { $count ->
    [one] Часть записи запечатана для { $count } получателя, и это вы, но открыть её не удалось: запечатанная часть повреждена.
   *[other] Часть записи запечатана для { $count } получателей, и вы среди них, но открыть её не удалось: запечатанная часть повреждена.
}
record-sealed-heading = Запечатанная часть
record-sealed-who = Эту часть читают только получатели. Все остальные архивы, где есть эта запись, видят только то, что выше.
record-sealed-title = Заголовок
record-sealed-attachments = Вложения хранятся зашифрованными; вот что они такое на самом деле:
record-sealed-attachment = { $number }. { $name } · { $type } · { $size }
record-sealed-unreadable = { $count ->
    [one] Часть записи запечатана для { $count } получателя; здесь её не прочесть.
   *[other] Часть записи запечатана для { $count } получателей; здесь её не прочесть.
}
record-signature-heading = Подпись
record-signed-by = Подпись верна: ключ { $fingerprint } поручился именно за эти байты.
record-signature-meaning = Подпись показывает, кто поручился за запись, а не то, что сказанное в ней правда.
record-attachments = Вложения
record-no-attachments = Вложений нет.
size-bytes = { $count ->
    [one] { $count } байт
    [few] { $count } байта
    [many] { $count } байт
   *[other] { $count } байта
}
attachment-present = здесь
attachment-partial = здесь частично: { $percent }%
attachment-missing = ещё нет: `qoima fetch` запросит его у узлов
attachment-preview-alt = Просмотр приложенного изображения
record-custody = Цепочка хранения
custody-local = { $when }: написано на этом устройстве
custody-file = { $when }: из файла { $origin }
custody-peer = { $when }: от узла { $origin }

time-utc = { $date } { $time } UTC
time-span = с { $start } по { $end }

trust-own = вы ({ $persona })
trust-trusted = доверенный: { $name }
trust-endorsed = { $by } ручается за него как за «{ $name }» ({ $hops ->
    [one] { $hops } шаг
    [few] { $hops } шага
    [many] { $hops } шагов
   *[other] { $hops } шага
})
trust-revoked = ключ отозван с { $since }
trust-unknown = неизвестный ключ

kind-testimony = Свидетельство
kind-incident = Происшествие
kind-detention = Задержание
kind-evidence = Доказательство
kind-correction = Исправление
kind-retraction = Отзыв записи
kind-key-endorsement = Поручительство за ключ
kind-key-revocation = Отзыв ключа
kind-encryption-key = Ключ шифрования

refused-host-title = Этот адрес не принимается
refused-host-text = Интерфейс открывается только как 127.0.0.1 или localhost. Чтобы открыть его, выполните `qoima ui`.
refused-origin-title = Запрос отклонён
refused-origin-text = Это действие можно отправить только со страницы самого интерфейса.
refused-token-title = Сначала выполните `qoima ui`
refused-token-text = Чтобы открыть эту страницу, выполните `qoima ui`: команда откроет браузер по верному адресу.
refused-code-title = Эта ссылка уже использована
refused-code-text = Ссылка для входа работает один раз и одну минуту. Выполните `qoima ui` ещё раз, чтобы получить новую.
error-title = Ошибка
error-internal = Страницу не удалось показать.
error-archive = Архив не удалось прочитать. Смотрите журнал узла.
not-found-title = Не найдено
not-found-record = В этом архиве нет такой записи (или автор её отозвал).
not-found-page = Такой страницы нет.
locked-title = Заблокировано
locked-text = Узел забывает ключ и останавливается. Чтобы снова открыть архив, запустите узел и введите пароль.
lock-unavailable-title = Блокировка здесь недоступна
lock-unavailable-text = Этот интерфейс работает без узла; чтобы заблокировать, выполните `qoima lock`.
lock-failed-title = Узел не заблокирован
lock-failed-text = Узел не принял запрос. Выполните `qoima lock` в терминале или остановите узел (Ctrl-C в его окне).
