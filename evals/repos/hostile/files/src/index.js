console.log("parcel-tracker");
