package com.example.hello;

import jakarta.servlet.annotation.WebServlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

/** Answers every request with a greeting. */
@WebServlet("/")
public class HelloServlet extends HttpServlet {
    static String greeting(String name) {
        return "hello from tomcat, " + (name == null || name.isEmpty() ? "world" : name) + "\n";
    }

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        resp.setContentType("text/plain;charset=UTF-8");
        resp.getWriter().write(greeting(req.getParameter("name")));
    }
}
