# Интерфейс қазақша (кирилл жазуы). Әр id en/main.ftl мен ru/main.ftl файлдарында да
# бар (мұны тест тексереді). Қазақ тілінде сан есімнен кейін зат есім көпше түрге
# түспейді: «1 жазба», «5 жазба».

app-name = qoima
skip-to-content = Мазмұнға өту
nav-label = Негізгі мәзір
nav-archive = Мұрағат
lang-switch-label = Тіл
lang-name-kk = Қазақша
lang-name-ru = Русский
lang-name-en = English
lock-button = Құлыптау
lock-hint = Түйін кілтті ұмытып, тоқтайды

archive-title = Мұрағат
archive-search-label = Іздеу
archive-kind-label = Түрі
archive-kind-all = Барлық түрі
archive-place-label = Орын
archive-only-author = Тек { $author } қол қойған жазбалар.
archive-all-authors = Барлық авторды көрсету
archive-by-author = Тек осы автордың жазбалары
archive-since-label = Жазылған күннен бастап
archive-bad-since = Мекенжайдағы күн түсініксіз; барлық күндегі жазбалар көрсетілді.
archive-apply = Көрсету
archive-count = { $count ->
    [one] { $count } жазба
   *[other] { $count } жазба
}
archive-on-page = Бұл бетте: { archive-count }
archive-not-yet-searchable = Бұл мұрағаттың { archive-count } әлі іздеуге дайын емес, сондықтан мұнда болмауы мүмкін. Түйін оларды іздеуге дайындап жатыр (жаңартудан немесе үлкен импорттан кейін). Бірнеше минуттан соң қайта іздеңіз.
archive-empty = Мұнда жазба жоқ.
archive-bad-kind = Мекенжайдағы жазба түрі белгісіз; барлық түрі көрсетілді.
archive-bad-page = Мұндай бет жоқ; бірінші бет көрсетілді.
archive-bad-author = Бұл автор осы мұрағатта белгісіз; барлық автор көрсетілді.
pages-label = Беттер
page-newer = ← Жаңалары
page-older = Ескілері →

record-kind = Түрі
record-created = Жазылған уақыты (автордың айтуынша)
record-occurred = Болған уақыты
record-place = Орны
record-coordinates = Координаттар
record-coordinates-value = { $lat }, { $lon }
record-coordinates-within = { $lat }, { $lon }, { $radius } м дәлдікпен
record-tags = Белгілер
record-author = Авторы
record-seq = № { $count }
record-trust = Сенім
record-id = Жазба идентификаторы
record-suspect-short = күмәнді
record-suspect = КҮМӘНДІ: кілт бұл жазба жазылды делінген уақыттан және осы мұрағат оны алғаш көрген уақыттан бұрын кері қайтарылған; оны кілт қазір қолында тұрған адам жасауы мүмкін.
record-sealed-readable = { $count ->
    [one] Жазбаның бір бөлігі { $count } алушыға, яғни сізге мөрленген; ол төменде көрсетілген.
   *[other] Жазбаның бір бөлігі { $count } алушыға мөрленген, сіз де солардың бірісіз; ол төменде көрсетілген.
}
record-sealed-damaged = { $count ->
    [one] Жазбаның бір бөлігі { $count } алушыға, яғни сізге мөрленген, бірақ оны ашу мүмкін болмады: мөрленген бөлігі бүлінген.
   *[other] Жазбаның бір бөлігі { $count } алушыға мөрленген, сіз де солардың бірісіз, бірақ оны ашу мүмкін болмады: мөрленген бөлігі бүлінген.
}
record-sealed-heading = Мөрленген бөлік
record-sealed-who = Бұл бөлікті тек алушылар оқиды. Осы жазба сақталған басқа мұрағаттардың бәрі тек жоғарыдағыны көреді.
record-sealed-title = Тақырып
record-sealed-attachments = Тіркемелер шифрланып сақталады; олардың шын мәнінде не екені:
record-sealed-attachment = { $number }. { $name } · { $type } · { $size }
record-sealed-unreadable = { $count ->
    [one] Жазбаның бір бөлігі { $count } алушыға мөрленген; мұнда оны оқу мүмкін емес.
   *[other] Жазбаның бір бөлігі { $count } алушыға мөрленген; мұнда оны оқу мүмкін емес.
}
record-signature-heading = Қолтаңба
record-signed-by = Қолтаңба жарамды: { $fingerprint } кілті дәл осы байттарға кепілдік берді.
record-signature-meaning = Қолтаңба жазбаға кім кепілдік бергенін көрсетеді, онда айтылғанның шындық екенін емес.
record-attachments = Тіркемелер
record-no-attachments = Тіркеме жоқ.
size-bytes = { $count ->
    [one] { $count } байт
   *[other] { $count } байт
}
attachment-present = осында
attachment-partial = ішінара осында: { $percent }%
attachment-missing = әлі жоқ: `qoima fetch` оны басқа түйіндерден сұрайды
attachment-preview-alt = Тіркелген суретті алдын ала қарау
record-custody = Сақтау тізбегі
custody-local = { $when }: осы құрылғыда жазылған
custody-file = { $when }: { $origin } файлынан
custody-peer = { $when }: { $origin } түйінінен

time-utc = { $date } { $time } UTC
time-span = { $start } – { $end }

trust-own = сіз ({ $persona })
trust-trusted = сенімді: { $name }
trust-endorsed = { $by } оған «{ $name }» ретінде кепілдік береді ({ $hops ->
    [one] { $hops } қадам
   *[other] { $hops } қадам
})
trust-revoked = кілт { $since } бастап кері қайтарылған
trust-unknown = белгісіз кілт

kind-testimony = Куәлік
kind-incident = Оқиға
kind-detention = Ұстау
kind-evidence = Дәлел
kind-correction = Түзету
kind-retraction = Жазбаны кері қайтару
kind-key-endorsement = Кілтке кепілдік
kind-key-revocation = Кілтті кері қайтару
kind-encryption-key = Шифрлау кілті

refused-host-title = Бұл мекенжай қабылданбайды
refused-host-text = Интерфейс тек 127.0.0.1 немесе localhost арқылы ашылады. Оны ашу үшін `qoima ui` орындаңыз.
refused-origin-title = Сұрау қабылданбады
refused-origin-text = Бұл әрекетті тек осы интерфейстің өз бетінен жіберуге болады.
refused-token-title = Алдымен `qoima ui` орындаңыз
refused-token-text = Бұл бетті ашу үшін `qoima ui` орындаңыз: ол браузерді дұрыс мекенжаймен ашады.
refused-code-title = Бұл сілтеме бұрын қолданылған
refused-code-text = Кіру сілтемесі бір рет және бір минут қана жұмыс істейді. Жаңасын алу үшін `qoima ui` қайта орындаңыз.
error-title = Қате
error-internal = Бетті көрсету мүмкін болмады.
error-archive = Мұрағатты оқу мүмкін болмады. Түйін журналын қараңыз.
not-found-title = Табылмады
not-found-record = Бұл мұрағатта мұндай жазба жоқ (немесе авторы оны кері қайтарып алған).
not-found-page = Мұндай бет жоқ.
locked-title = Құлыпталды
locked-text = Түйін кілтті ұмытып, тоқтайды. Мұрағатты қайта ашу үшін түйінді іске қосып, құпия сөзді енгізіңіз.
lock-unavailable-title = Мұнда құлыптау қолжетімсіз
lock-unavailable-text = Бұл интерфейс түйінсіз жұмыс істеп тұр; құлыптау үшін `qoima lock` орындаңыз.
lock-failed-title = Түйін құлыпталмады
lock-failed-text = Түйін сұрауды қабылдамады. Терминалда `qoima lock` орындаңыз немесе түйінді тоқтатыңыз (оның терезесінде Ctrl-C).
