window.XLTOOLS_DESK = "";  // "" : the desk that serves these pages (online mode); an offline install writes its address
