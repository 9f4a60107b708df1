# «Түйіндер және синхрондау» беті (/peers).

nav-peers = Түйіндер және синхрондау
peers-title = Түйіндер және синхрондау
peers-no-node = Интерфейс түйінсіз жұмыс істеп тұр, сондықтан түйіндер мен синхрондау туралы көрсететін ештеңе жоқ.
peers-no-answer = Түйін 2 секунд ішінде жауап бермеді. Ол бос емес болуы мүмкін; сәлден кейін қайталап көріңіз.
peers-refresh = Жаңарту
peers-this-node = Осы түйін
peers-archive = Мұрағат
peers-records = { $count ->
    [one] { $count } жазба
   *[other] { $count } жазба
}
peers-peers = Түйіндер
peers-connected = қосылған: { $count }, белгілі: { $known }
peers-heading = Түйіндер
peers-none = Әзірге түйіндер жоқ. Бір жергілікті желідегі түйіндер бірін-бірі өздері табады; басқаларына мекенжай керек (qoima node --peer).
peers-col-peer = Түйін
peers-col-state = Күйі
peers-col-last-sync = Соңғы синхрондау
peers-col-received = Алынды
peers-col-declined = Ережемен қабылданбады
peers-col-strikes = Бұзушылықтар
peers-col-ban = Бұғаттау
peers-columns-meaning = Түйін желідегі атауының соңымен ғана көрсетіледі. «Алынды» және «Ережемен қабылданбады» осы түйін іске қосылғаннан бергі жазбаларды санайды; қабылданбаған жазба түпнұсқа, бірақ сіздің баптауларыңыз бойынша сақталмайды, бұл түйіннің кінәсі емес. «Бұзушылықтар» жарамсыз хабарларды санайды; тым көп болса, түйін біраз уақытқа бұғатталады.
peers-state-connected = қосылған
peers-state-known = қосылмаған
peers-never-synced = ешқашан
peers-last-sync = { $ago } ({ $when }), { $count } жазба әкелді
peers-not-banned = жоқ
peers-banned-until = { $when } дейін
peers-more = { $count ->
    [one] және тағы { $count }
   *[other] және тағы { $count }
}
peers-transfers-heading = Жүктеліп жатқан тіркемелер
peers-no-transfers = Қазір ешбір тіркеме жүктелмей тұр.
peers-transfer-progress = { $size } ішінен { $have } ({ $percent }%)
peers-transfer-speed = { $size }/с
peers-transfer-sources = { $count } түйіннен
peers-budget = Осы іске қосудағы тіркемелер лимиті: { $budget } ішінен { $used } жұмсалды.

ago-now = жаңа ғана
ago-minutes = { $count } минут бұрын
ago-hours = { $count } сағат бұрын
ago-days = { $count } күн бұрын

size-with-unit = { $value } { $unit }
unit-bytes = Б
unit-kb = КБ
unit-mb = МБ
unit-gb = ГБ
unit-tb = ТБ
