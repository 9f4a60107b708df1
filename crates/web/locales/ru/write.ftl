# Запись новой записи (`/write`).

nav-write = Написать
write-title = Новая запись
write-choose-intro = Что вы хотите записать? Выберите вид записи.
write-about-testimony = что свидетель видел, слышал или пережил, его словами
write-about-incident = событие: задержание, избиение, разгон, цензура…
write-about-detention = человек, которого задержали или который пропал, и где его держат
write-about-evidence = фотография, видео или документ и что на них видно
write-other-kind = Выбрать другой вид записи
write-required = (обязательно)
write-not-said = — не указано —

write-field-kind = Вид записи
write-field-title = Заголовок
write-field-text = Что произошло
write-field-occurred-at = Когда это произошло
write-hint-occurred-at = Дата (2022-01-05), дата и время (2022-01-05T14:30+06:00) или две даты (2022-01-05/2022-01-07). Пишите с той точностью, которую знаете.
write-field-place = Где
write-field-witness = Свидетель (условное имя, никогда не настоящее)
write-hint-pseudonym = Только условное имя или номер, по которым вы сами найдёте человека в другом месте. Настоящее имя здесь может подвергнуть его опасности.
write-field-relation = Откуда свидетель знает
write-relation-victim = это случилось с ним
write-relation-eyewitness = видел сам
write-relation-relative = родственник пострадавшего
write-relation-hearsay = ему рассказали
write-relation-other = другое
write-field-incident-type = Что произошло
write-incident-detention = задержание или арест
write-incident-use-of-force = избиение или другое применение силы
write-incident-shooting = стрельба
write-incident-torture = пытки
write-incident-disappearance = исчезновение
write-incident-dispersal = разгон собрания
write-incident-censorship = цензура
write-incident-property-damage = порча имущества
write-incident-other = другое
write-field-person = Человек (условное имя, никогда не настоящее)
write-field-facility = Где его держат
write-field-authority = Какой орган его держит
write-field-tags = Метки
write-hint-tags = Слова, по которым запись можно найти, через запятую.
write-field-lang = Язык текста
write-field-consent = Согласие человека, давшего эти сведения
write-consent-intro = Отметьте только то, на что он согласился. Без согласия на передачу запись остаётся в этом архиве: её никогда не предлагают вашим пирам и не экспортируют, если не попросить об этом явно.
write-consent-share = Согласен на передачу правозащитным организациям (запись будет предложена вашим пирам)
write-consent-publish = Согласен на публикацию
write-consent-court = Согласен на использование в суде
write-field-persona = Подписать как
write-hint-persona = Персона, ключом которой подписывается запись. Пиры видят ключ, а не это имя.
write-field-attachments = Вложения
write-metadata-removed = Фотографии (JPEG, PNG, HEIC) и видео (MP4, MOV) перед сохранением теряют скрытые данные: место съёмки, камеру или телефон, время. Имя файла тоже не сохраняется. Файл на вашем устройстве не меняется.
write-metadata-unknown = Другие форматы (WebP, GIF, TIFF, RAW, MKV, MP3 и прочие) очистить нельзя: они сохраняются как есть и могут выдать, где, когда и чем они сделаны. Если это может кому-то навредить, не прикладывайте их.
write-metadata-damaged = Повреждённая фотография или видео не принимаются, и ничего не сохраняется: их скрытые данные нельзя удалить надёжно.
write-choose-files = Файлы для вложения
write-attachments-limits = Не больше { $files ->
    [one] { $files } файла
    [few] { $files } файлов
    [many] { $files } файлов
   *[other] { $files } файла
}, каждый не больше { $each } МБ, вся форма не больше { $total } МБ. Файлы побольше можно приложить командой `qoima add --attach` в терминале.
write-signing = Запись подписывается вашим ключом, когда вы нажимаете кнопку. Подписанную запись изменить нельзя; ошибку исправляют поправкой.
write-submit = Подписать и сохранить

write-problems-heading = Запись не сохранена
write-problems-kept = Всё, что вы ввели, осталось в форме ниже.
write-choose-files-again = Браузер не может сохранить выбранные файлы: выберите их снова.
write-error-title = Запись не сохранена
write-error-kind = Такую запись здесь написать нельзя. Выберите вид записи на странице «Написать».
write-error-unreadable = Форма пришла не целиком. Попробуйте ещё раз.
write-error-stored = Архив не смог сохранить запись; ничего не сохранено. Проверьте, есть ли место на диске, и попробуйте ещё раз.
write-error-damaged = Вложение { $number } повреждено: его скрытые данные нельзя удалить надёжно, поэтому ничего не сохранено. Уберите его из формы или сохраните как есть командой `qoima add --keep-metadata` в терминале.
write-error-draft = Запись нельзя сохранить: { $reason }
write-error-missing = Поле «{ $field }» обязательно.
write-error-too-long = Поле «{ $field }» слишком длинное: не больше { $max } байт (латинская буква занимает 1 байт, кириллическая — 2). Сократите его.
write-error-too-many-tags = { $count ->
    [one] «Метки»: не больше { $count } метки.
    [few] «Метки»: не больше { $count } меток.
    [many] «Метки»: не больше { $count } меток.
   *[other] «Метки»: не больше { $count } метки.
}
write-error-date = Поле «Когда это произошло» не распознано. Напишите дату, например 2022-01-05, или оставьте поле пустым.
write-error-choice = Поле «{ $field }»: выберите один из предложенных вариантов.
write-error-not-text = Поле «{ $field }» не является текстом, который архив может прочитать.
write-error-file-too-large = Вложение { $number } больше { $max } МБ. Ничего не сохранено.
write-error-too-many-files = { $count ->
    [one] Не больше { $count } вложения на запись. Ничего не сохранено.
    [few] Не больше { $count } вложений на запись. Ничего не сохранено.
    [many] Не больше { $count } вложений на запись. Ничего не сохранено.
   *[other] Не больше { $count } вложения на запись. Ничего не сохранено.
}
write-error-request-too-large = Форма с вложениями больше { $max } МБ. Ничего не сохранено.
write-no-persona-title = Нет ключа для подписи
write-no-persona-text = Запись подписывается ключом персоны, а в этом архиве её нет. В терминале выполните `qoima key new --name ИМЯ` (любое имя: оно остаётся на этом устройстве), затем снова откройте эту страницу.
