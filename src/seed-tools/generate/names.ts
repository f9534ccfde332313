/**
 * The realistic raw material of the profiles: a Spanish bakery's ingredients,
 * products and recipes, suppliers, people and places. Pure data.
 */
export type Unit = 'kg' | 'l' | 'ud';

export interface IngredientDef {
  readonly key: string;
  readonly name: string;
  readonly category: string;
  readonly unit: Unit;
  /** EUR per unit. */
  readonly cost: number;
  readonly reorderPoint: number;
  readonly shelfLifeDays: number;
  /** Index of the supplier (0..2) that delivers it. */
  readonly supplier: number;
  /** Pack size ordered from the supplier. */
  readonly pack: number;
}

export const INGREDIENTS: readonly IngredientDef[] = [
  {
    key: 't55',
    name: 'Harina de trigo panificable T55',
    category: 'flour',
    unit: 'kg',
    cost: 0.52,
    reorderPoint: 250,
    shelfLifeDays: 180,
    supplier: 0,
    pack: 25,
  },
  {
    key: 'integral',
    name: 'Harina integral de trigo',
    category: 'flour',
    unit: 'kg',
    cost: 0.71,
    reorderPoint: 60,
    shelfLifeDays: 120,
    supplier: 0,
    pack: 25,
  },
  {
    key: 'centeno',
    name: 'Harina de centeno',
    category: 'flour',
    unit: 'kg',
    cost: 0.89,
    reorderPoint: 40,
    shelfLifeDays: 120,
    supplier: 0,
    pack: 25,
  },
  {
    key: 'levadura',
    name: 'Levadura fresca prensada',
    category: 'yeast',
    unit: 'kg',
    cost: 3.15,
    reorderPoint: 4,
    shelfLifeDays: 21,
    supplier: 2,
    pack: 0.5,
  },
  {
    key: 'sal',
    name: 'Sal marina fina',
    category: 'seasoning',
    unit: 'kg',
    cost: 0.42,
    reorderPoint: 10,
    shelfLifeDays: 720,
    supplier: 2,
    pack: 10,
  },
  {
    key: 'mantequilla',
    name: 'Mantequilla 82% M.G. en placas',
    category: 'dairy',
    unit: 'kg',
    cost: 7.85,
    reorderPoint: 20,
    shelfLifeDays: 60,
    supplier: 1,
    pack: 2,
  },
  {
    key: 'leche',
    name: 'Leche entera fresca',
    category: 'dairy',
    unit: 'l',
    cost: 0.92,
    reorderPoint: 24,
    shelfLifeDays: 10,
    supplier: 1,
    pack: 12,
  },
  {
    key: 'huevos',
    name: 'Huevos frescos clase M',
    category: 'eggs',
    unit: 'ud',
    cost: 0.21,
    reorderPoint: 180,
    shelfLifeDays: 28,
    supplier: 1,
    pack: 30,
  },
  {
    key: 'azucar',
    name: 'Azúcar blanco',
    category: 'sugar',
    unit: 'kg',
    cost: 0.98,
    reorderPoint: 25,
    shelfLifeDays: 720,
    supplier: 2,
    pack: 25,
  },
  {
    key: 'chocolate',
    name: 'Chocolate negro 70% en barritas',
    category: 'chocolate',
    unit: 'kg',
    cost: 9.6,
    reorderPoint: 5,
    shelfLifeDays: 365,
    supplier: 2,
    pack: 2.5,
  },
];

export interface RecipeDef {
  readonly yieldQuantity: number;
  readonly prepMinutes: number;
  readonly bakeMinutes: number;
  readonly instructions: string;
  readonly ingredients: ReadonlyArray<readonly [key: string, quantity: number]>;
}

export interface ProductDef {
  readonly key: string;
  readonly name: string;
  readonly category: string;
  /** EUR per unit, retail. */
  readonly price: number;
  readonly shelfLifeDays: number;
  /** Units sold on an ordinary weekday in one shop. */
  readonly baseDemand: number;
  /** Weekend-heavy (pastries) rather than steady (bread). */
  readonly weekendLift: number;
  readonly recipe: RecipeDef | null;
}

export const PRODUCED: readonly ProductDef[] = [
  {
    key: 'barra',
    name: 'Barra de pan tradicional',
    category: 'bread',
    price: 1.2,
    shelfLifeDays: 1,
    baseDemand: 140,
    weekendLift: 1.1,
    recipe: {
      yieldQuantity: 50,
      prepMinutes: 150,
      bakeMinutes: 22,
      instructions:
        'Amasar la harina con agua, sal y levadura 12 minutos; reposar 45 minutos; dividir en piezas de 280 g, formar barras y fermentar 60 minutos; greñar y hornear a 240 °C con vapor.',
      ingredients: [
        ['t55', 13.75],
        ['sal', 0.275],
        ['levadura', 0.14],
      ],
    },
  },
  {
    key: 'croissant',
    name: 'Croissant de mantequilla',
    category: 'pastry',
    price: 1.6,
    shelfLifeDays: 2,
    baseDemand: 70,
    weekendLift: 1.45,
    recipe: {
      yieldQuantity: 60,
      prepMinutes: 180,
      bakeMinutes: 18,
      instructions:
        'Preparar la masa con leche, azúcar, huevo y levadura; laminar con la mantequilla en tres vueltas simples; cortar triángulos, enrollar y fermentar 2 horas a 26 °C; pintar con huevo y hornear a 185 °C.',
      ingredients: [
        ['t55', 3.6],
        ['mantequilla', 1.8],
        ['leche', 1.2],
        ['azucar', 0.42],
        ['huevos', 4],
        ['levadura', 0.15],
        ['sal', 0.07],
      ],
    },
  },
  {
    key: 'hogaza',
    name: 'Hogaza integral de masa madre',
    category: 'bread',
    price: 3.8,
    shelfLifeDays: 4,
    baseDemand: 28,
    weekendLift: 1.3,
    recipe: {
      yieldQuantity: 20,
      prepMinutes: 240,
      bakeMinutes: 45,
      instructions:
        'Autolisis de las harinas 30 minutos; añadir masa madre, sal y un punto de levadura; pliegues cada 30 minutos; formar hogazas de 800 g, fermentar en banneton y hornear a 230 °C en suela.',
      ingredients: [
        ['integral', 7],
        ['centeno', 2.4],
        ['sal', 0.19],
        ['levadura', 0.05],
      ],
    },
  },
  {
    key: 'napolitana',
    name: 'Napolitana de chocolate',
    category: 'pastry',
    price: 1.8,
    shelfLifeDays: 2,
    baseDemand: 45,
    weekendLift: 1.5,
    recipe: {
      yieldQuantity: 48,
      prepMinutes: 170,
      bakeMinutes: 16,
      instructions:
        'Laminar la masa de hojaldre fermentado, cortar rectángulos, colocar dos barritas de chocolate, enrollar y fermentar; pintar con huevo y hornear a 190 °C.',
      ingredients: [
        ['t55', 3],
        ['mantequilla', 1.5],
        ['chocolate', 0.72],
        ['azucar', 0.36],
        ['huevos', 4],
        ['levadura', 0.12],
        ['sal', 0.06],
      ],
    },
  },
  {
    key: 'magdalena',
    name: 'Magdalena casera',
    category: 'pastry',
    price: 0.9,
    shelfLifeDays: 5,
    baseDemand: 60,
    weekendLift: 1.35,
    recipe: {
      yieldQuantity: 72,
      prepMinutes: 40,
      bakeMinutes: 20,
      instructions:
        'Batir huevos y azúcar hasta blanquear, añadir leche y mantequilla fundida, incorporar la harina; reposar la masa en frío una hora, llenar las cápsulas y hornear a 200 °C.',
      ingredients: [
        ['t55', 2.2],
        ['azucar', 1.8],
        ['huevos', 24],
        ['leche', 0.6],
        ['mantequilla', 1.6],
      ],
    },
  },
  {
    key: 'ensaimada',
    name: 'Ensaimada',
    category: 'pastry',
    price: 2.2,
    shelfLifeDays: 3,
    baseDemand: 20,
    weekendLift: 1.6,
    recipe: {
      yieldQuantity: 24,
      prepMinutes: 300,
      bakeMinutes: 15,
      instructions:
        'Amasar harina, azúcar, huevos y levadura; estirar muy fina, untar con manteca, enrollar en espiral y fermentar 12 horas; hornear a 180 °C y espolvorear con azúcar glas.',
      ingredients: [
        ['t55', 2.5],
        ['azucar', 0.5],
        ['huevos', 6],
        ['mantequilla', 0.6],
        ['levadura', 0.1],
        ['sal', 0.03],
      ],
    },
  },
  {
    key: 'centeno',
    name: 'Pan de centeno',
    category: 'bread',
    price: 3.2,
    shelfLifeDays: 5,
    baseDemand: 15,
    weekendLift: 1.2,
    recipe: {
      yieldQuantity: 20,
      prepMinutes: 200,
      bakeMinutes: 50,
      instructions:
        'Mezclar centeno y trigo con agua templada, sal y levadura; fermentar en molde 90 minutos y hornear a 220 °C bajando a 200 °C.',
      ingredients: [
        ['centeno', 6],
        ['t55', 2],
        ['sal', 0.16],
        ['levadura', 0.06],
      ],
    },
  },
  {
    key: 'bollo',
    name: 'Bollo de leche',
    category: 'pastry',
    price: 0.95,
    shelfLifeDays: 3,
    baseDemand: 40,
    weekendLift: 1.3,
    recipe: {
      yieldQuantity: 60,
      prepMinutes: 150,
      bakeMinutes: 14,
      instructions:
        'Amasar harina con leche, azúcar, mantequilla, huevo y levadura; bolear piezas de 50 g, fermentar 90 minutos, pintar y hornear a 190 °C.',
      ingredients: [
        ['t55', 3],
        ['leche', 1.5],
        ['azucar', 0.45],
        ['mantequilla', 0.45],
        ['levadura', 0.12],
        ['huevos', 6],
        ['sal', 0.05],
      ],
    },
  },
  {
    key: 'chapata',
    name: 'Chapata',
    category: 'bread',
    price: 1.5,
    shelfLifeDays: 1,
    baseDemand: 50,
    weekendLift: 1.05,
    recipe: {
      yieldQuantity: 40,
      prepMinutes: 210,
      bakeMinutes: 24,
      instructions:
        'Masa de alta hidratación con poolish de la víspera; pliegues durante la fermentación, cortar piezas rectangulares sin formar y hornear a 250 °C con vapor.',
      ingredients: [
        ['t55', 8],
        ['sal', 0.16],
        ['levadura', 0.08],
      ],
    },
  },
];

/** Bought-in goods an enterprise outlet sells without producing them. */
export const RESALE: readonly ProductDef[] = [
  {
    key: 'zumo',
    name: 'Zumo de naranja natural 330 ml',
    category: 'resale',
    price: 2.4,
    shelfLifeDays: 4,
    baseDemand: 30,
    weekendLift: 1.25,
    recipe: null,
  },
];

export interface SupplierDef {
  readonly name: string;
  readonly email: string;
  readonly phone: string;
  readonly city: string;
  readonly leadTimeDays: number;
  readonly rating: number;
  /** Days between two purchase orders. */
  readonly cadenceDays: number;
}

export const SUPPLIERS_MADRID: readonly SupplierDef[] = [
  {
    name: 'Harinera La Meseta S.L.',
    email: 'pedidos@harineralameseta.es',
    phone: '+34 983 214 560',
    city: 'Valladolid',
    leadTimeDays: 2,
    rating: 4.7,
    cadenceDays: 7,
  },
  {
    name: 'Lácteos y Huevos Sierra de Guadarrama',
    email: 'comercial@lacteosguadarrama.es',
    phone: '+34 921 443 128',
    city: 'Segovia',
    leadTimeDays: 1,
    rating: 4.5,
    cadenceDays: 7,
  },
  {
    name: 'Distribuciones Obrador Levante S.L.',
    email: 'ventas@obradorlevante.es',
    phone: '+34 961 587 302',
    city: 'Valencia',
    leadTimeDays: 3,
    rating: 4.2,
    cadenceDays: 14,
  },
];

export const SUPPLIERS_BARCELONA: readonly SupplierDef[] = [
  {
    name: 'Farinera del Vallès S.A.',
    email: 'comandes@farineravalles.cat',
    phone: '+34 937 251 480',
    city: 'Sabadell',
    leadTimeDays: 2,
    rating: 4.8,
    cadenceDays: 7,
  },
  {
    name: 'Làctics del Montseny S.L.',
    email: 'comercial@lacticsmontseny.cat',
    phone: '+34 938 861 215',
    city: 'Vic',
    leadTimeDays: 1,
    rating: 4.6,
    cadenceDays: 4,
  },
  {
    name: 'Distribucions Forner Mediterrani',
    email: 'vendes@fornermediterrani.es',
    phone: '+34 932 640 775',
    city: 'Barcelona',
    leadTimeDays: 3,
    rating: 4.3,
    cadenceDays: 14,
  },
];

export interface Place {
  readonly name: string;
  readonly address: string;
  readonly city: string;
  readonly latitude: number;
  readonly longitude: number;
}

export const BARCELONA_OUTLETS: readonly Place[] = [
  { name: 'Gràcia', address: 'Carrer Gran de Gràcia 112', city: 'Barcelona', latitude: 41.400912, longitude: 2.153214 },
  {
    name: 'Eixample',
    address: "Carrer d'Enric Granados 48",
    city: 'Barcelona',
    latitude: 41.390318,
    longitude: 2.158027,
  },
  {
    name: 'Sant Andreu',
    address: 'Carrer Gran de Sant Andreu 230',
    city: 'Barcelona',
    latitude: 41.435493,
    longitude: 2.190012,
  },
  { name: 'Poblenou', address: 'Rambla del Poblenou 85', city: 'Barcelona', latitude: 41.401028, longitude: 2.203047 },
  { name: 'Sants', address: 'Carrer de Sants 150', city: 'Barcelona', latitude: 41.375712, longitude: 2.134036 },
  { name: 'Sarrià', address: 'Carrer Major de Sarrià 40', city: 'Barcelona', latitude: 41.399734, longitude: 2.121702 },
  {
    name: 'Les Corts',
    address: 'Travessera de les Corts 220',
    city: 'Barcelona',
    latitude: 41.384011,
    longitude: 2.132025,
  },
  {
    name: 'Barceloneta',
    address: 'Passeig de Joan de Borbó 30',
    city: 'Barcelona',
    latitude: 41.379517,
    longitude: 2.189028,
  },
  { name: 'Horta', address: 'Carrer de Campoamor 20', city: 'Barcelona', latitude: 41.430312, longitude: 2.160041 },
  { name: 'Poble-sec', address: 'Carrer de Blai 25', city: 'Barcelona', latitude: 41.373518, longitude: 2.163004 },
  { name: 'El Born', address: 'Carrer de la Princesa 35', city: 'Barcelona', latitude: 41.385521, longitude: 2.181013 },
  {
    name: 'Sant Gervasi',
    address: 'Carrer de Muntaner 400',
    city: 'Barcelona',
    latitude: 41.399047,
    longitude: 2.143019,
  },
];

export const FIRST_NAMES = [
  'María',
  'Javier',
  'Lucía',
  'Carlos',
  'Ana',
  'Pablo',
  'Elena',
  'Sergio',
  'Laura',
  'Marc',
  'Núria',
  'Jordi',
  'Montse',
  'Albert',
  'Carla',
  'Oriol',
  'Anna',
  'Pau',
  'Carmen',
  'Raúl',
  'Marta',
  'David',
  'Silvia',
  'Álex',
];
export const LAST_NAMES = [
  'García',
  'Martín',
  'Fernández',
  'Sánchez',
  'Romero',
  'Torres',
  'Ruiz',
  'Molina',
  'Jiménez',
  'Puig',
  'Vila',
  'Serra',
  'Roca',
  'Font',
  'Mas',
  'Camps',
  'Soler',
  'Ferrer',
  'Ortiz',
  'Navarro',
  'Castro',
  'Vidal',
  'Pujol',
  'Bosch',
];

export interface CustomerDef {
  readonly name: string;
  readonly type: 'business' | 'individual';
}

export const CUSTOMERS_MADRID: readonly CustomerDef[] = [
  { name: 'Cafetería El Rincón de Lavapiés', type: 'business' },
  { name: 'Hotel Plaza Mayor', type: 'business' },
  { name: 'Restaurante La Tahona de Toledo', type: 'business' },
  { name: 'Carmen Ortiz Delgado', type: 'individual' },
  { name: 'Luis Herrera Campos', type: 'individual' },
  { name: 'Isabel Prieto Rubio', type: 'individual' },
];

export const CUSTOMERS_BARCELONA: readonly CustomerDef[] = [
  { name: 'Cafeteria La Plaça', type: 'business' },
  { name: 'Restaurant Can Pep', type: 'business' },
  { name: 'Hotel Jardí', type: 'business' },
  { name: 'Escola Sant Jordi (menjador)', type: 'business' },
  { name: 'Bar del Mercat', type: 'business' },
  { name: 'Casal de Gent Gran', type: 'business' },
  { name: 'Montserrat Riera Pons', type: 'individual' },
  { name: 'Joan Casals Miró', type: 'individual' },
  { name: 'Teresa Valls Grau', type: 'individual' },
];

/** Sales channels; `--scale S` records each shop's sales on S channels. */
export const CHANNELS = ['store', 'online', 'wholesale', 'catering', 'delivery_app', 'kiosk', 'events', 'subscription'];

/** Lower-case ASCII, words joined by `sep` (for e-mail addresses and slugs). */
export function asciiSlug(text: string, sep = '-'): string {
  return text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, sep)
    .replace(new RegExp(`^\\${sep}+|\\${sep}+$`, 'g'), '');
}

/**
 * The first `count` produced products; past the list, the same products again
 * in new sizes ("Barra de pan tradicional (formato 2)").
 */
export function producedProducts(count: number): ProductDef[] {
  return Array.from({ length: count }, (_, i) => {
    const base = PRODUCED[i % PRODUCED.length] as ProductDef;
    const round = Math.floor(i / PRODUCED.length);
    if (round === 0) return base;
    return {
      ...base,
      key: `${base.key}-${round + 1}`,
      name: `${base.name} (formato ${round + 1})`,
      baseDemand: Math.max(5, Math.round(base.baseDemand / (round + 1))),
    };
  });
}

/** Outlet places: the Barcelona neighbourhoods, then numbered shops spread around the city. */
export function outletPlace(index: number, jitter: () => number): Place {
  const known = BARCELONA_OUTLETS[index];
  if (known) return known;
  const n = index + 1;
  return {
    name: `Barcelona ${n}`,
    address: `Local ${n}, Barcelona`,
    city: 'Barcelona',
    latitude: 41.39 + 0.04 * jitter(),
    longitude: 2.16 + 0.05 * jitter(),
  };
}
