using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using PulseCart.Google.CloudTasks;

namespace PulseCart.Consumer.Security;

/// <summary>
/// The three doors: Pub/Sub pushes, Cloud Tasks callbacks, operators. Each route group names its policy once;
/// with <c>PulseCart:Auth:Mode</c> = <c>none</c> the push and task doors are open (and a warning says so at start).
/// </summary>
public static class SecurityPolicies
{
    public const string Push = "pubsub-push";
    public const string Tasks = "cloud-tasks";
    public const string Operators = "operators";
    public const string ForbiddenReasonKey = "pulsecart.auth.forbidden";

    public const string PushScheme = "pubsub-oidc";
    private const string TasksScheme = "cloudtasks-oidc";
    private const string OperatorScheme = "operator";

    public static WebApplicationBuilder AddPulseCartSecurity(this WebApplicationBuilder builder)
    {
        var environment = builder.Environment;
        builder.Services.AddOptions<AuthOptions>()
            .BindConfiguration(AuthOptions.Section)
            .PostConfigure(options => options.Mode ??= environment.IsProduction() ? AuthMode.Oidc : AuthMode.None)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddOptions<OperatorOptions>().BindConfiguration(OperatorOptions.Section);
        builder.Services.AddHttpClient(SigningKeyCache.HttpClientName, http => http.Timeout = TimeSpan.FromSeconds(10));
        builder.Services.AddSingleton<SigningKeyCache>();
        builder.Services.AddSingleton<GoogleTokenVerifier>();

        builder.Services.AddAuthentication()
            .AddScheme<GoogleOidcSchemeOptions, GoogleOidcHandler>(PushScheme, _ => { })
            .AddScheme<GoogleOidcSchemeOptions, GoogleOidcHandler>(TasksScheme, _ => { })
            .AddScheme<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions, OperatorHandler>(OperatorScheme, _ => { });
        builder.Services.AddOptions<GoogleOidcSchemeOptions>(PushScheme)
            .Configure<IOptions<AuthOptions>>((scheme, auth) => scheme.Audience = auth.Value.Audience ?? "");
        builder.Services.AddOptions<GoogleOidcSchemeOptions>(TasksScheme)
            .Configure<IOptions<AuthOptions>, IOptions<CloudTasksOptions>>((scheme, auth, tasks) => scheme.Audience =
                string.IsNullOrWhiteSpace(auth.Value.TasksAudience) ? tasks.Value.EffectiveAudience : auth.Value.TasksAudience);

        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(Push, policy => policy
                .AddAuthenticationSchemes(PushScheme)
                .RequireAuthenticatedUser()
                .RequireAssertion(context => IsAllowedServiceAccount(context)))
            .AddPolicy(Tasks, policy => policy
                .AddAuthenticationSchemes(TasksScheme)
                .RequireAuthenticatedUser()
                .RequireAssertion(context => IsAllowedServiceAccount(context) && IsConfiguredQueue(context)))
            .AddPolicy(Operators, policy => policy
                .AddAuthenticationSchemes(OperatorScheme)
                .RequireAssertion(context =>
                    context.User.Identity?.IsAuthenticated == true || IsDevelopmentOnLoopback(context)));
        return builder;
    }

    /// <summary>
    /// Puts a route behind the push or task door when authentication is on. With the doors open the route is answered
    /// as soon as it is matched (<c>ShortCircuit</c>), past the authentication and authorization middlewares, which would
    /// find nothing to check and yet cost every request a service scope and two async layers.
    /// </summary>
    public static TBuilder RequireCaller<TBuilder>(this TBuilder endpoints, IServiceProvider services, string policy)
        where TBuilder : IEndpointConventionBuilder
    {
        var auth = services.GetRequiredService<IOptions<AuthOptions>>().Value;
        if (auth.Mode == AuthMode.Oidc)
        {
            return endpoints.RequireAuthorization(policy);
        }

        endpoints.ShortCircuit();
        return endpoints;
    }

    public static WebApplication UsePulseCartSecurity(this WebApplication app)
    {
        var auth = app.Services.GetRequiredService<IOptions<AuthOptions>>().Value;
        if (auth.Mode == AuthMode.None)
        {
            app.Logger.LogWarning(
                "PulseCart:Auth:Mode is none: /consumer/push and /tasks/* accept unauthenticated requests. Use oidc anywhere reachable from outside.");
        }

        app.UseAuthentication();
        app.UseAuthorization();
        return app;
    }

    private static bool IsAllowedServiceAccount(AuthorizationHandlerContext context)
    {
        var email = context.User.FindFirst(GoogleOidcHandler.EmailClaim)?.Value;
        var http = context.Resource as HttpContext;
        var allowed = http?.RequestServices.GetRequiredService<IOptions<AuthOptions>>().Value.AllowedServiceAccounts ?? [];
        if (email is not null && allowed.Contains(email, StringComparer.OrdinalIgnoreCase))
        {
            return true;
        }

        if (http is not null && email is not null)
        {
            http.Items[ForbiddenReasonKey] = $"principal {email} is not in PulseCart:Auth:AllowedServiceAccounts";
            http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(SecurityPolicies))
                .LogWarning("Refused authenticated caller {Email}: not an allowed service account", email);
        }

        return false;
    }

    private static bool IsConfiguredQueue(AuthorizationHandlerContext context)
    {
        if (context.Resource is not HttpContext http)
        {
            return false;
        }

        var expected = http.RequestServices.GetRequiredService<IOptions<CloudTasksOptions>>().Value.Queue;
        var actual = http.Request.Headers["X-CloudTasks-QueueName"].ToString();
        if (string.Equals(actual, expected, StringComparison.Ordinal))
        {
            return true;
        }

        http.Items[ForbiddenReasonKey] = $"X-CloudTasks-QueueName must be {expected}";
        return false;
    }

    private static bool IsDevelopmentOnLoopback(AuthorizationHandlerContext context) =>
        context.Resource is HttpContext http
        && http.RequestServices.GetRequiredService<IHostEnvironment>().IsDevelopment()
        && ThisMachine.Sent(http);
}
