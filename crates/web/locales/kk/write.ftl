# Жаңа жазба жазу (`/write`).

nav-write = Жазу
write-title = Жаңа жазба
write-choose-intro = Нені жазып қалдырғыңыз келеді? Жазбаның түрін таңдаңыз.
write-about-testimony = куәгердің көргені, естігені немесе басынан өткергені, өз сөзімен
write-about-incident = оқиға: ұстау, ұрып-соғу, тарату, цензура…
write-about-detention = ұсталған немесе хабарсыз кеткен адам және оны қайда ұстап отырғаны
write-about-evidence = фотосурет, бейне немесе құжат және онда не көрінетіні
write-other-kind = Жазбаның басқа түрін таңдау
write-required = (міндетті)
write-not-said = — көрсетілмеген —

write-field-kind = Жазба түрі
write-field-title = Тақырып
write-field-text = Не болды
write-field-occurred-at = Қашан болды
write-hint-occurred-at = Күн (2022-01-05), күн мен уақыт (2022-01-05T14:30+06:00) немесе екі күн (2022-01-05/2022-01-07). Өзіңіз білетін дәлдікпен ғана жазыңыз.
write-field-place = Қайда
write-field-witness = Куәгер (шартты есім, ешқашан шын есімі емес)
write-hint-pseudonym = Адамды басқа жерден өзіңіз таба алатын шартты есім немесе нөмір ғана. Мұнда жазылған шын есім оған қауіп төндіруі мүмкін.
write-field-relation = Куәгер қайдан біледі
write-relation-victim = бұл оның басынан өтті
write-relation-eyewitness = өз көзімен көрді
write-relation-relative = зардап шеккен адамның туысы
write-relation-hearsay = оған айтып берді
write-relation-other = басқа
write-field-incident-type = Не болды
write-incident-detention = ұстау немесе қамауға алу
write-incident-use-of-force = ұрып-соғу немесе басқа күш қолдану
write-incident-shooting = атыс
write-incident-torture = азаптау
write-incident-disappearance = хабарсыз жоғалу
write-incident-dispersal = жиынды тарату
write-incident-censorship = цензура
write-incident-property-damage = мүлікті бүлдіру
write-incident-other = басқа
write-field-person = Адам (шартты есім, ешқашан шын есімі емес)
write-field-facility = Оны қайда ұстап отыр
write-field-authority = Оны қай орган ұстап отыр
write-field-tags = Белгілер
write-hint-tags = Жазбаны табуға болатын сөздер, үтір арқылы.
write-field-lang = Мәтіннің тілі
write-field-consent = Осы мәліметті берген адамның келісімі
write-consent-intro = Ол келіскен нәрсені ғана белгілеңіз. Беруге келісім болмаса, жазба осы мұрағатта қалады: ол ешқашан пирлеріңізге ұсынылмайды және арнайы сұралмаса экспортталмайды.
write-consent-share = Құқық қорғау ұйымдарына беруге келіседі (жазба пирлеріңізге ұсынылады)
write-consent-publish = Жариялауға келіседі
write-consent-court = Сотта пайдалануға келіседі
write-field-persona = Кімнің атынан қол қою
write-hint-persona = Жазбаға кілтімен қол қоятын персона. Пирлер осы есімді емес, кілтті көреді.
write-field-attachments = Тіркемелер
write-metadata-removed = Фотосуреттер (JPEG, PNG, HEIC) мен бейнелер (MP4, MOV) сақталар алдында жасырын деректерінен айырылады: түсірілген жері, камера немесе телефон, уақыты. Файл атауы да сақталмайды. Құрылғыңыздағы файл өзгермейді.
write-metadata-unknown = Басқа пішімдерді (WebP, GIF, TIFF, RAW, MKV, MP3 және т.б.) тазалау мүмкін емес: олар сол күйінде сақталады және қайда, қашан, немен жасалғанын ашып қоюы мүмкін. Бұл біреуге қауіп төндіруі мүмкін болса, оларды тіркемеңіз.
write-metadata-damaged = Зақымдалған фотосурет немесе бейне қабылданбайды және ештеңе сақталмайды: олардың жасырын деректерін сенімді түрде жою мүмкін емес.
write-choose-files = Тіркелетін файлдар
write-attachments-limits = Ең көбі { $files } файл, әрқайсысы ең көбі { $each } МБ, бүкіл пішін ең көбі { $total } МБ. Үлкенірек файлдарды терминалда `qoima add --attach` пәрменімен тіркеуге болады.
write-signing = Батырманы басқанда жазбаға сіздің кілтіңізбен қол қойылады. Қол қойылған жазбаны өзгерту мүмкін емес; қатені түзету жазбасымен түзетеді.
write-submit = Қол қойып сақтау

write-problems-heading = Жазба сақталмады
write-problems-kept = Енгізгеніңіздің бәрі төмендегі пішінде қалды.
write-choose-files-again = Браузер таңдалған файлдарды сақтай алмайды: оларды қайта таңдаңыз.
write-error-title = Жазба сақталмады
write-error-kind = Мұндай жазбаны мұнда жазу мүмкін емес. Жазба түрін «Жазу» бетінде таңдаңыз.
write-error-unreadable = Пішін толық келмеді. Қайталап көріңіз.
write-error-stored = Мұрағат жазбаны сақтай алмады; ештеңе сақталмады. Дискіде бос орын бар-жоғын тексеріп, қайталап көріңіз.
write-error-damaged = { $number }-тіркеме зақымдалған: оның жасырын деректерін сенімді түрде жою мүмкін емес, сондықтан ештеңе сақталмады. Оны пішіннен алып тастаңыз немесе терминалда `qoima add --keep-metadata` пәрменімен сол күйінде сақтаңыз.
write-error-draft = Жазбаны сақтау мүмкін емес: { $reason }
write-error-missing = «{ $field }» өрісі міндетті.
write-error-too-long = «{ $field }» өрісі тым ұзын: ең көбі { $max } байт (латын әрпі 1 байт, кирилл әрпі 2 байт алады). Оны қысқартыңыз.
write-error-too-many-tags = { $count ->
    [one] «Белгілер»: ең көбі { $count } белгі.
   *[other] «Белгілер»: ең көбі { $count } белгі.
}
write-error-date = «Қашан болды» өрісі танылмады. 2022-01-05 сияқты күнді жазыңыз немесе өрісті бос қалдырыңыз.
write-error-choice = «{ $field }» өрісі: ұсынылған нұсқалардың бірін таңдаңыз.
write-error-not-text = «{ $field }» өрісі мұрағат оқи алатын мәтін емес.
write-error-file-too-large = { $number }-тіркеме { $max } МБ-тан үлкен. Ештеңе сақталмады.
write-error-too-many-files = { $count ->
    [one] Бір жазбаға ең көбі { $count } тіркеме. Ештеңе сақталмады.
   *[other] Бір жазбаға ең көбі { $count } тіркеме. Ештеңе сақталмады.
}
write-error-request-too-large = Тіркемелерімен бірге пішін { $max } МБ-тан үлкен. Ештеңе сақталмады.
write-no-persona-title = Қол қоятын кілт жоқ
write-no-persona-text = Жазбаға персонаның кілтімен қол қойылады, ал бұл мұрағатта ондай жоқ. Терминалда `qoima key new --name ЕСІМ` пәрменін орындаңыз (кез келген есім: ол осы құрылғыда қалады), содан кейін бұл бетті қайта ашыңыз.
