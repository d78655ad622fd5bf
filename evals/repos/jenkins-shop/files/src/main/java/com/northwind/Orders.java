package com.northwind;

public final class Orders {
    public static int total(int[] cents) {
        int sum = 0;
        for (int c : cents) {
            sum += c;
        }
        return sum;
    }
}
