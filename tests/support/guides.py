"""Two Spanish city guides, one page each paragraph: the texts the strategy and
knowledge-base tests ingest (``ingest_texts``)."""

CITY = [
    "La catedral de la ciudad se construyó durante tres siglos. Sus vidrieras góticas fueron "
    "restauradas en 1998 por un taller de artesanos locales que trabajó con plomo y vidrio.",
    "El mercado central abre todos los días salvo el domingo. Allí se venden frutas, pescado "
    "fresco y quesos curados de las montañas cercanas, y en verano se celebran conciertos.",
    "La biblioteca municipal guarda un manuscrito medieval iluminado, donado por una familia de "
    "comerciantes en el siglo diecinueve. Solo se expone una vez al año, en abril.",
    "El puerto recibe barcos de carga y cruceros. La lonja subasta cada madrugada las capturas "
    "de la flota de bajura, sobre todo merluza, sardina y anchoa.",
    "La universidad fue fundada por el obispo Gelmírez y hoy tiene facultades de medicina, "
    "derecho y filología. Su claustro renacentista es visitable los fines de semana.",
    "El parque botánico conserva un ginkgo centenario y un invernadero de hierro con plantas "
    "tropicales. La entrada es gratuita para estudiantes y jubilados.",
]

OTHER_CITY = [
    "La universidad de la otra ciudad fue fundada por la reina Urraca en el siglo doce. Hoy "
    "enseña arquitectura e ingeniería naval en un antiguo convento.",
    "El mercado de la otra ciudad solo abre los sábados, y allí se venden flores y cerámica.",
]
