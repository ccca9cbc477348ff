// state.js holds what every view may read: the signed-in person (null when signed out).
export const session = { me: null };
